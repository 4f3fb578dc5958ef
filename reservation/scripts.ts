import { AppError, invalid, notFound } from '../infra/errors.js';
import { luaScript, registerLua, runLua } from '../infra/lua.js';
import type { Redis } from '../infra/redis.js';
import type { HoldStatus, SaleKeys } from './keys.js';

/**
 * The reservation part's Lua scripts (lua/), one typed function each, in the manner of BullMQ's Scripts
 * class: each builds its key list in the order of the script's header, and reads the reply and maps its
 * refusals in one place. The hold's payment transitions (begin-checkout, mark-sold, fail-checkout) live
 * here too: settlement calls them, but the data they change (hold records, stock, per-user counts, stats,
 * the event stream) is this part's.
 *
 * reserve and reserve-batch are self-batched: their caller (batcher.ts) already sends one call per
 * event-loop turn for many requests, and ioredis auto-pipelining would wrap each such call in a pipeline of
 * its own, which costs more than the call.
 */
const lua = registerLua(new URL('./lua/', import.meta.url), { selfBatched: ['reserve', 'reserve-batch'] });
const RESERVE = luaScript(lua, 'reserve');
const RESERVE_BATCH = luaScript(lua, 'reserve-batch');
const RELEASE = luaScript(lua, 'release');
const EXPIRE = luaScript(lua, 'expire');
const OPEN_SALE = luaScript(lua, 'open-sale');
const CLOSE_SALE = luaScript(lua, 'close-sale');
const BEGIN_CHECKOUT = luaScript(lua, 'begin-checkout');
const MARK_SOLD = luaScript(lua, 'mark-sold');
const FAIL_CHECKOUT = luaScript(lua, 'fail-checkout');

/** The keys of reserve-7 and reserve-batch-7, in their headers' order (built once per sale by the batcher). */
export const reserveKeys = (k: SaleKeys): string[] => [k.meta, k.stock, k.holds, k.users, k.idem, k.stats, k.events];
/** The keys of release-6 and expire-6. */
const holdKeys = (k: SaleKeys): string[] => [k.meta, k.stock, k.holds, k.users, k.stats, k.events];

export type ReserveStatus = 'OK' | 'DUPLICATE' | 'NOT_OPEN' | 'NOT_ADMITTED' | 'SOLD_OUT' | 'LIMIT' | 'INVALID';
export type ReserveReply = [status: ReserveStatus, rid: string, quantity: number, expiresAt: number];
export interface ReserveArgs {
  userId: string;
  quantity: number;
  idempotencyKey: string;
  jti: string;
  markerSeconds: number;
}

/** reserve-7: one reservation. */
export function reserveScript(redis: Redis, keys: string[], a: ReserveArgs, nowMs: number): Promise<ReserveReply> {
  return runLua<ReserveReply>(redis, RESERVE, keys, [a.userId, a.quantity, nowMs, a.idempotencyKey, a.jti, a.markerSeconds]);
}

/** reserve-batch-7: several reservations of one sale, each answered as reserve-7 would. */
export async function reserveBatchScript(redis: Redis, keys: string[], batch: readonly ReserveArgs[], nowMs: number): Promise<ReserveReply[]> {
  const argv: Array<string | number> = [nowMs];
  for (const a of batch) argv.push(a.userId, a.quantity, a.idempotencyKey, a.jti, a.markerSeconds);
  const flat = (await runLua<string>(redis, RESERVE_BATCH, keys, argv)).split(',');
  const out: ReserveReply[] = new Array(batch.length);
  for (let i = 0; i < batch.length; i++) out[i] = [flat[i * 4] as ReserveStatus, flat[i * 4 + 1], Number(flat[i * 4 + 2]), Number(flat[i * 4 + 3])];
  return out;
}

const refusals: Record<Exclude<ReserveStatus, 'OK' | 'DUPLICATE'>, () => AppError> = {
  NOT_OPEN: () => new AppError('sale_not_open', 'the sale is not open'),
  SOLD_OUT: () => new AppError('sold_out', 'not enough units left'),
  LIMIT: () => new AppError('limit_reached', 'this would take you past the per-user limit'),
  NOT_ADMITTED: () => new AppError('not_admitted', 'this admission token has already been used'),
  INVALID: () => invalid('quantity', 'must be a whole number of at least 1'),
};

/** The client error for a reserve status other than OK and DUPLICATE. */
export function reserveRefusal(status: string): Error {
  const refuse = refusals[status as keyof typeof refusals];
  return refuse ? refuse() : new Error(`reserve script answered ${status}`);
}

/**
 * release-6: gives a held hold back. `owner` '' skips the owner check (system callers); `payingOk` lets a
 * hold in state `paying` go too. OK also when it had already ended; NOT_FOUND for no such hold or another
 * user's; BUSY when a payment is in flight or done.
 */
export async function releaseScript(redis: Redis, k: SaleKeys, rid: string, owner: string, payingOk = false): Promise<'OK' | 'NOT_FOUND' | 'BUSY'> {
  const [status] = await runLua<['OK' | 'NOT_FOUND' | 'BUSY']>(redis, RELEASE, holdKeys(k), [rid, owner, payingOk ? '1' : '0']);
  return status;
}

/** expire-6: expires up to `max` held holds whose time is up; the number expired. */
export function expireScript(redis: Redis, k: SaleKeys, nowMs: number, max: number): Promise<number> {
  return runLua<number>(redis, EXPIRE, holdKeys(k), [nowMs, max]);
}

/** open-sale-3: the sale's meta (field/value pairs) and stock, once; the status the sale has afterwards. */
export function openSaleScript(redis: Redis, k: SaleKeys, quantity: number, meta: ReadonlyArray<string | number>): Promise<string> {
  return runLua<string>(redis, OPEN_SALE, [k.meta, k.stock, k.stats], [quantity, ...meta]);
}

/** close-sale-1: no reservation is taken afterwards; the status before ('' when never opened in Redis). */
export function closeSaleScript(redis: Redis, k: SaleKeys, status: 'closed' | 'cancelled'): Promise<string> {
  return runLua<string>(redis, CLOSE_SALE, [k.meta], [status]);
}

export interface CheckoutArgs {
  rid: string;
  userId: string;
  nowMs: number;
  idempotencyKey: string;
  /** The order id to use if this is the first checkout of the hold (a fresh uuid). */
  orderId: string;
  paymentMethod: string;
  /** The settlement job that will settle it (default: the reservation id). */
  jobId?: string;
}

export interface CheckoutBegun {
  /** OK: the hold is paying now; DUPLICATE: the same key had checked it out before. */
  status: 'OK' | 'DUPLICATE';
  orderId: string;
  quantity: number;
  unitPriceCents: number;
  productId: string;
  checkoutAt: number;
  /** The hold's state now. */
  holdStatus: HoldStatus;
  paymentMethod: string;
  jobId: string;
}

type BeginReply = [string, string, number, number, string, number, string, string, string];

/**
 * begin-checkout-3: hold held -> paying, under the caller's idempotency key. Throws not_found (no such
 * hold, or another user's), hold_expired, or idempotency_conflict (checked out under another key).
 */
export async function beginCheckout(redis: Redis, k: SaleKeys, a: CheckoutArgs): Promise<CheckoutBegun> {
  const args = [a.rid, a.userId, a.nowMs, a.idempotencyKey, a.orderId, a.paymentMethod, ...(a.jobId === undefined ? [] : [a.jobId])];
  const [status, orderId, quantity, unitPriceCents, productId, checkoutAt, holdStatus, paymentMethod, jobId] = await runLua<BeginReply>(
    redis,
    BEGIN_CHECKOUT,
    [k.meta, k.holds, k.paying],
    args,
  );
  switch (status) {
    case 'NOT_FOUND':
      throw notFound('reservation');
    case 'EXPIRED':
      throw new AppError('hold_expired', holdStatus === 'released' ? 'the hold was released' : 'the hold has expired');
    case 'CONFLICT':
      throw new AppError('idempotency_conflict', 'this reservation is already being checked out under another Idempotency-Key');
    case 'OK':
    case 'DUPLICATE':
      break;
    default:
      throw new Error(`begin-checkout answered ${status}`);
  }
  return {
    status,
    orderId,
    quantity: Number(quantity),
    unitPriceCents: Number(unitPriceCents),
    productId: String(productId),
    checkoutAt: Number(checkoutAt),
    holdStatus: holdStatus as HoldStatus,
    paymentMethod,
    jobId,
  };
}

/**
 * mark-sold-5: paid holds paying -> sold (idempotent). One status per id: SOLD (now), ALREADY, or the
 * unexpected state it was in (held, released, expired, MISSING), which is left as it is.
 */
export function markSold(redis: Redis, k: SaleKeys, rids: readonly string[]): Promise<string[]> {
  return runLua<string[]>(redis, MARK_SOLD, [k.meta, k.stats, k.paying, k.events, k.sold], rids);
}

/**
 * fail-checkout-7: a payment failed: hold paying -> released, units back (idempotent). RELEASED (now),
 * ALREADY (had ended), SOLD (refused: it was paid) or MISSING.
 */
export function failCheckout(redis: Redis, k: SaleKeys, rid: string): Promise<'RELEASED' | 'ALREADY' | 'SOLD' | 'MISSING'> {
  return runLua(redis, FAIL_CHECKOUT, [k.meta, k.stock, k.holds, k.users, k.stats, k.events, k.paying], [rid]);
}
