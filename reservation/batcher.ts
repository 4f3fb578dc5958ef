import { KeyedBatcher } from '../infra/batch.js';
import type { Context } from '../infra/context.js';
import { saleKeys } from './keys.js';
import { runScript } from './scripts.js';

const MAX_BATCH = 200;
/** Batches of one sale in flight at once; requests arriving meanwhile wait and form the next batch. */
const MAX_IN_FLIGHT = 2;

export type ReserveReply = [status: string, rid: string, quantity: number, expiresAt: number];
export interface ReserveArgs {
  userId: string;
  quantity: number;
  idempotencyKey: string;
  jti: string;
  markerSeconds: number;
}

/**
 * Coalesces the reservations of one sale that reach this process in the same event-loop turn into one
 * `reserve-batch` script call. A Redis script call has a fixed cost well above the work of one reservation,
 * so under load this is the difference between Redis and the gateway being the limit. Semantics do not
 * change: the script runs each request with every check, in arrival order, atomically. A lone request
 * uses `reserve` directly. At most MAX_IN_FLIGHT batches of a sale are in flight; requests that arrive
 * meanwhile form the next batch when one returns, so batches grow with load and an idle gateway waits for
 * nothing more than one setImmediate (no timer).
 *
 * One ReserveBatcher per Context, made by the reservation part.
 */
export class ReserveBatcher {
  private readonly batcher = new KeyedBatcher<string, ReserveArgs, ReserveReply>(
    { maxSize: MAX_BATCH, maxInFlight: MAX_IN_FLIGHT, schedule: 'turn' },
    (saleId, batch) => this.send(saleId, batch),
  );
  /** Each sale's keys in the order reserve and reserve-batch take them. */
  private readonly keysBySale = new Map<string, string[]>();

  constructor(private readonly ctx: Context) {}

  reserve(saleId: string, args: ReserveArgs): Promise<ReserveReply> {
    return this.batcher.add(saleId, args);
  }

  private keysOf(saleId: string): string[] {
    let keys = this.keysBySale.get(saleId);
    if (!keys) {
      if (this.keysBySale.size >= 10_000) this.keysBySale.clear();
      const k = saleKeys(this.ctx.config.redisPrefix, saleId);
      this.keysBySale.set(saleId, (keys = [k.meta, k.stock, k.holds, k.users, k.idem, k.stats, k.events]));
    }
    return keys;
  }

  private async send(saleId: string, batch: ReserveArgs[]): Promise<ReserveReply[]> {
    const keys = this.keysOf(saleId);
    const now = Date.now();
    if (batch.length === 1) {
      const a = batch[0];
      return [await runScript<ReserveReply>(this.ctx.redis, 'reserve', keys, [a.userId, a.quantity, now, a.idempotencyKey, a.jti, a.markerSeconds])];
    }
    const argv: Array<string | number> = [now];
    for (const a of batch) argv.push(a.userId, a.quantity, a.idempotencyKey, a.jti, a.markerSeconds);
    const flat = (await runScript<string>(this.ctx.redis, 'reserve-batch', keys, argv)).split(',');
    const replies: ReserveReply[] = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) replies[i] = [flat[i * 4], flat[i * 4 + 1], Number(flat[i * 4 + 2]), Number(flat[i * 4 + 3])];
    return replies;
  }
}
