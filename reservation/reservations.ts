import type { Context } from '../infra/context.js';
import { checkAccountAge, takeAddressPlace } from './anti-bot.js';
import { AppError, invalid, notFound } from '../infra/errors.js';
import { verifyAdmissionToken } from './admission-token.js';
import { parseHoldRecord, saleIdOfReservation, saleKeys } from './keys.js';
import { getSale, peekSale, type Sale } from './sales.js';
import { releaseScript, reserveRefusal } from './scripts.js';
import type { ReserveBatcher } from './batcher.js';
import { countReservation } from './metrics.js';

export interface ReserveInput {
  saleId: string;
  userId: string;
  quantity: number;
  /** Already checked by the route (infra/http.ts idempotencyKey). */
  idempotencyKey?: string;
  admissionToken?: string;
  /** The client's address (for a sale with maxAdmissionsPerIp). */
  ip?: string;
}

export interface Reservation {
  reservationId: string;
  saleId: string;
  quantity: number;
  expiresAt: string;
  /** True when an earlier request with the same Idempotency-Key made it (nothing was taken twice). */
  replayed: boolean;
}

/** Epoch ms as ISO-8601, remembering the last one: the holds of one batch share their expiry. */
let lastMs = NaN;
let lastIso = '';
function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

/** Extra life for an admission marker beyond the token's expiry (clock skew between processes). */
const MARKER_MARGIN_S = 60;

/**
 * Reserves units for a user: checks the input, the sale and (for waiting-room sales) the admission token,
 * then does everything else in one atomic Lua call (open, idempotency, single-use admission, stock, limit,
 * decrement, hold, event). Throws AppError with the client-facing code on every refusal.
 */
export async function reserve(ctx: Context, batcher: ReserveBatcher, input: ReserveInput, nowMs = Date.now()): Promise<Reservation> {
  const { saleId } = input;
  const cached = peekSale(ctx, saleId);
  const sale = cached !== undefined ? cached : await getSale(ctx, saleId);
  if (!sale) throw notFound('sale');
  return reserveIn(ctx, batcher, sale, input, nowMs).then(
    (r) => {
      countReservation(saleId, r.replayed ? 'replayed' : 'ok');
      return r;
    },
    (err) => {
      countReservation(saleId, err instanceof AppError ? err.code : 'error');
      throw err;
    },
  );
}

async function reserveIn(ctx: Context, batcher: ReserveBatcher, sale: Sale, input: ReserveInput, nowMs: number): Promise<Reservation> {
  const { saleId, userId, quantity } = input;
  if (!Number.isInteger(quantity) || quantity < 1) throw invalid('quantity', 'must be a whole number of at least 1');
  if (quantity > sale.perUserLimit) throw invalid('quantity', `at most ${sale.perUserLimit} per shopper in this sale`);
  const idem = input.idempotencyKey ?? '';
  let jti = '';
  let markerSeconds = 0;
  if (sale.waitingRoom) {
    const claims = verifyAdmissionToken(ctx.config.tokenSecret, input.admissionToken, userId, saleId, nowMs);
    if (!claims) throw new AppError('not_admitted', 'a valid Admission-Token from the waiting room is required');
    jti = claims.jti;
    markerSeconds = Math.max(1, Math.ceil(claims.exp - nowMs / 1000)) + MARKER_MARGIN_S;
  }
  if (sale.accountsCreatedBefore) await checkAccountAge(ctx, sale, userId);
  if (sale.maxAdmissionsPerIp && !sale.waitingRoom) await takeAddressPlace(ctx, sale, userId, input.ip ?? '');
  const [status, rid, q, expiresAt] = await batcher.reserve(saleId, { userId, quantity, idempotencyKey: idem, jti, markerSeconds });
  if (status === 'OK' || status === 'DUPLICATE') {
    if (status === 'DUPLICATE' && q !== quantity) {
      throw new AppError('idempotency_conflict', 'this Idempotency-Key was used for a different quantity');
    }
    return { reservationId: rid, saleId, quantity: q, expiresAt: isoTime(expiresAt), replayed: status === 'DUPLICATE' };
  }
  throw reserveRefusal(status);
}

/** Gives a hold back before it expires. Only its owner may; a hold being paid for cannot be released. */
export async function releaseHold(ctx: Context, rid: string, userId: string): Promise<{ reservationId: string; status: 'released' }> {
  const saleId = saleIdOfReservation(rid);
  if (!saleId) throw notFound('reservation');
  const status = await releaseScript(ctx.redis, saleKeys(ctx.config.redisPrefix, saleId), rid, userId);
  if (status === 'NOT_FOUND') throw notFound('reservation');
  if (status === 'BUSY') throw new AppError('invalid_state', 'this reservation is being paid for or already sold');
  return { reservationId: rid, status: 'released' };
}

export interface HoldView {
  reservationId: string;
  saleId: string;
  quantity: number;
  status: string;
  expiresAt: string;
  createdAt: string;
}

/** A hold as its owner sees it (null when it does not exist or is someone else's). */
export async function getHold(ctx: Context, rid: string, userId: string): Promise<HoldView | null> {
  const saleId = saleIdOfReservation(rid);
  if (!saleId) return null;
  const h = parseHoldRecord(await ctx.redis.hget(saleKeys(ctx.config.redisPrefix, saleId).records, rid));
  if (!h || h.userId !== userId) return null;
  return {
    reservationId: rid,
    saleId,
    quantity: h.quantity,
    status: h.status,
    expiresAt: new Date(h.expiresAt).toISOString(),
    createdAt: new Date(h.createdAt).toISOString(),
  };
}
