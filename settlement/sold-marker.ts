import type { Context } from '../infra/context.js';
import { markSold, saleKeys } from '../reservation/index.js';

interface Waiting {
  rid: string;
  resolve: (status: string) => void;
  reject: (err: unknown) => void;
}

/**
 * The mark-sold step of many sagas in one script call: holds handed in during the same turn of the event
 * loop (typically every order of the OrderWriter batch that just committed) are marked sold by one
 * `mark-sold-5.lua` call per sale (the script takes many ids), instead of one call each. Every caller still
 * gets its own hold's status; if the call fails, every caller in it fails (their jobs are retried, and the
 * script is idempotent).
 */
export class SoldMarker {
  private bySale = new Map<string, Waiting[]>();
  private scheduled = false;

  constructor(
    private readonly ctx: Context,
    /** Most ids per script call: a call blocks Redis while it runs (about 10 µs per id, so about 1 ms). */
    private readonly maxBatch = 100,
  ) {}

  /** Hold paying -> sold; resolves to the script's status for it (SOLD, ALREADY, or the odd state it was in). */
  mark(job: { rid: string; saleId: string }): Promise<string> {
    return new Promise((resolve, reject) => {
      let waiting = this.bySale.get(job.saleId);
      if (!waiting) this.bySale.set(job.saleId, (waiting = []));
      waiting.push({ rid: job.rid, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        process.nextTick(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const bySale = this.bySale;
    this.bySale = new Map();
    for (const [saleId, waiting] of bySale) {
      for (let i = 0; i < waiting.length; i += this.maxBatch) void this.send(saleId, waiting.slice(i, i + this.maxBatch));
    }
  }

  private async send(saleId: string, waiting: Waiting[]): Promise<void> {
    const k = saleKeys(this.ctx.config.redisPrefix, saleId);
    try {
      const statuses = await markSold(this.ctx.redis, k, waiting.map((w) => w.rid));
      for (let i = 0; i < waiting.length; i++) waiting[i].resolve(statuses[i]);
    } catch (err) {
      for (const w of waiting) w.reject(err);
    }
  }
}
