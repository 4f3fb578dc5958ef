import type { Context } from '../infra/context.js';
import type { Db, DbClient } from '../infra/db.js';
import { parseId } from '../infra/http.js';
import { saleKeys } from './keys.js';
import type { SaleStatus } from './sale-status.js';

/** A flash sale as the rest of the engine sees it. Ids are strings; times are Dates here, ISO on the wire. */
export interface Sale {
  id: string;
  productId: string;
  /** The product's name. */
  name: string;
  quantity: number;
  priceCents: number;
  startsAt: Date;
  endsAt: Date;
  perUserLimit: number;
  holdSeconds: number;
  waitingRoom: boolean;
  admission: { batchSize: number; intervalMs: number; windowSeconds: number; overAdmissionFactor: number };
  queueOpensAt: Date;
  powDifficulty: number;
  /** Anti-bot (reservation/anti-bot.ts): only accounts created before this may queue or reserve. */
  accountsCreatedBefore: Date | null;
  /** Anti-bot: at most this many shoppers per client address (null: no limit). */
  maxAdmissionsPerIp: number | null;
  status: SaleStatus;
}

export interface SaleStats {
  remaining: number;
  held: number;
  sold: number;
}

export const DEFAULT_ADMISSION = { batchSize: 100, intervalMs: 1000, windowSeconds: 120 };
export const QUEUE_OPENS_BEFORE_MS = 10 * 60_000;

/** Ids on the wire are decimal strings; anything else cannot name a row. */
export const isId = (s: string) => parseId(s) !== null;

const SALE_SELECT = `SELECT s.*, p.name FROM sales s JOIN products p ON p.id = s.product_id`;

export function rowToSale(row: any, overAdmissionFactor: number): Sale {
  const a = row.admission ?? {};
  return {
    id: String(row.id),
    productId: String(row.product_id),
    name: row.name,
    quantity: row.quantity,
    priceCents: row.price_cents,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    perUserLimit: row.per_user_limit,
    holdSeconds: row.hold_seconds,
    waitingRoom: row.waiting_room,
    admission: {
      batchSize: a.batchSize ?? DEFAULT_ADMISSION.batchSize,
      intervalMs: a.intervalMs ?? DEFAULT_ADMISSION.intervalMs,
      windowSeconds: a.windowSeconds ?? DEFAULT_ADMISSION.windowSeconds,
      overAdmissionFactor: a.overAdmissionFactor ?? overAdmissionFactor,
    },
    queueOpensAt: row.queue_opens_at ?? new Date(row.starts_at.getTime() - QUEUE_OPENS_BEFORE_MS),
    powDifficulty: row.pow_difficulty,
    accountsCreatedBefore: row.accounts_created_before ?? null,
    maxAdmissionsPerIp: row.max_admissions_per_ip ?? null,
    status: row.status,
  };
}

/** Reads a sale from Postgres (no cache); `forUpdate` locks the row inside the caller's transaction. */
export async function loadSale(ctx: Context, db: Db | DbClient, saleId: string, forUpdate = false): Promise<Sale | null> {
  if (!isId(saleId)) return null;
  const { rows } = await db.query(`${SALE_SELECT} WHERE s.id = $1${forUpdate ? ' FOR UPDATE OF s' : ''}`, [saleId]);
  return rows.length ? rowToSale(rows[0], ctx.config.overAdmissionFactor) : null;
}

/**
 * A small per-process cache in front of Postgres, so the reservation hot path and the waiting room never
 * query Postgres per request. Entries live CACHE_MS; a status change made by this process drops its entry
 * at once, and the Lua scripts check the live status in Redis anyway, so a stale entry can only delay a
 * status shown to a reader by at most CACHE_MS. Unknown ids are cached too (a flood of them stays cheap).
 */
const CACHE_MS = 1000;
const CACHE_MAX = 10_000;
type Entry = { sale: Sale | null; at: number; pending?: Promise<Sale | null> };
const caches = new WeakMap<Context, Map<string, Entry>>();

function cacheOf(ctx: Context): Map<string, Entry> {
  let c = caches.get(ctx);
  if (!c) caches.set(ctx, (c = new Map()));
  return c;
}

export function forgetSale(ctx: Context, saleId: string): void {
  cacheOf(ctx).delete(saleId);
}

/** The sale when this process has a fresh cache entry for it, else undefined: lets a hot path skip an await. */
export function peekSale(ctx: Context, saleId: string): Sale | null | undefined {
  const hit = cacheOf(ctx).get(saleId);
  return hit && !hit.pending && Date.now() - hit.at < CACHE_MS ? hit.sale : undefined;
}

export async function getSale(ctx: Context, saleId: string): Promise<Sale | null> {
  if (!isId(saleId)) return null;
  const cache = cacheOf(ctx);
  const now = Date.now();
  const hit = cache.get(saleId);
  if (hit && now - hit.at < CACHE_MS) return hit.pending ?? hit.sale;
  const pending = loadSale(ctx, ctx.db, saleId);
  const entry: Entry = { sale: hit?.sale ?? null, at: now, pending };
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(saleId, entry);
  try {
    entry.sale = await pending;
    return entry.sale;
  } catch (err) {
    cache.delete(saleId);
    throw err;
  } finally {
    entry.pending = undefined;
  }
}

/** Live figures from Redis. Before the sale opens there is no stock key yet: remaining is then 0. */
export async function saleStats(ctx: Context, saleId: string): Promise<SaleStats> {
  const k = saleKeys(ctx.config.redisPrefix, saleId);
  const [stock, [held, sold]] = await Promise.all([ctx.redis.get(k.stock), ctx.redis.hmget(k.stats, 'held', 'sold')]);
  return { remaining: Number(stock ?? 0), held: Number(held ?? 0), sold: Number(sold ?? 0) };
}

/** The last reconciliation result settlement wrote for the sale, if any. */
export async function saleReconciliation(ctx: Context, saleId: string): Promise<unknown | undefined> {
  const raw = await ctx.redis.get(saleKeys(ctx.config.redisPrefix, saleId).recon);
  if (!raw) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return { error: 'unreadable reconciliation record' };
  }
}

/** What a shopper may see. Remaining is the full quantity before opening and 0 once cancelled. */
export async function publicSaleView(ctx: Context, sale: Sale) {
  let remaining = sale.quantity;
  if (sale.status === 'cancelled') remaining = 0;
  else if (sale.status !== 'scheduled') remaining = (await saleStats(ctx, sale.id)).remaining;
  return {
    id: sale.id,
    productId: sale.productId,
    name: sale.name,
    priceCents: sale.priceCents,
    startsAt: sale.startsAt.toISOString(),
    endsAt: sale.endsAt.toISOString(),
    status: sale.status,
    remaining,
    quantity: sale.quantity,
    perUserLimit: sale.perUserLimit,
    holdSeconds: sale.holdSeconds,
    waitingRoom: sale.waitingRoom,
    queueOpensAt: sale.queueOpensAt.toISOString(),
    powDifficulty: sale.powDifficulty,
  };
}
