import { KeyedBatcher } from '../infra/batch.js';
import type { Context } from '../infra/context.js';
import { markSold, saleKeys } from '../reservation/index.js';

/**
 * The mark-sold step of many sagas in one script call: holds handed in while the code running now is busy
 * (typically every order of the OrderWriter batch that just committed) are marked sold by one
 * `mark-sold-5.lua` call per sale (the script takes many ids), instead of one call each. Every caller still
 * gets its own hold's status; if the call fails, every caller in it fails (their jobs are retried, and the
 * script is idempotent).
 */
export class SoldMarker {
  private readonly batcher: KeyedBatcher<string, string, string>;

  constructor(
    private readonly ctx: Context,
    /** Most ids per script call: a call blocks Redis while it runs (about 10 µs per id, so about 1 ms). */
    maxBatch = 100,
  ) {
    this.batcher = new KeyedBatcher({ maxSize: maxBatch, maxInFlight: Infinity, schedule: 'tick' }, (saleId, rids) => this.send(saleId, rids));
  }

  /** Hold paying -> sold; resolves to the script's status for it (SOLD, ALREADY, or the odd state it was in). */
  mark(job: { rid: string; saleId: string }): Promise<string> {
    return this.batcher.add(job.saleId, job.rid);
  }

  private send(saleId: string, rids: string[]): Promise<string[]> {
    return markSold(this.ctx.redis, saleKeys(this.ctx.config.redisPrefix, saleId), rids);
  }
}
