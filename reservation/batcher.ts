import { KeyedBatcher } from '../infra/batch.js';
import type { Context } from '../infra/context.js';
import { saleKeys } from './keys.js';
import { reserveBatchScript, reserveKeys, reserveScript, type ReserveArgs, type ReserveReply } from './scripts.js';

const MAX_BATCH = 200;
/** Batches of one sale in flight at once; requests arriving meanwhile wait and form the next batch. */
const MAX_IN_FLIGHT = 2;

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
      this.keysBySale.set(saleId, (keys = reserveKeys(saleKeys(this.ctx.config.redisPrefix, saleId))));
    }
    return keys;
  }

  private async send(saleId: string, batch: ReserveArgs[]): Promise<ReserveReply[]> {
    const keys = this.keysOf(saleId);
    const now = Date.now();
    if (batch.length === 1) return [await reserveScript(this.ctx.redis, keys, batch[0], now)];
    return reserveBatchScript(this.ctx.redis, keys, batch, now);
  }
}
