import type { Redis } from '../../infra/redis.js';
import { cartApply, cartBatch, type ApplyMode, type CartChange } from '../scripts.js';

interface Pending extends CartChange {
  resolve: (answer: string) => void;
  reject: (err: unknown) => void;
}

/** Script calls the batchers of this process sent, and the changes they carried (mean batch: changes / calls). */
export const cartBatchStats = { calls: 0, changes: 0 };

const MAX_BATCH = 200;
/** Batches in flight at once; changes arriving meanwhile wait and form the next batch. */
const MAX_IN_FLIGHT = 2;

/**
 * Coalesces the cart changes that reach this process in one event-loop turn into one `cart-batch` script
 * call, as reservation/batcher.ts does for reservations: a script call has a fixed cost (the client's
 * command and reply, Redis's call setup and I/O) well above the work of one cart change. The script makes
 * each change exactly as its own `cart-apply` call would, in arrival order, and answers each what that call
 * answers. A lone change uses `cart-apply` directly, so an idle gateway waits for one setImmediate at most.
 * At most MAX_IN_FLIGHT batches are in flight: changes that arrive meanwhile form the next batch, so batches
 * grow with load. A batch spans carts of any slot, which a single Redis allows; on Redis Cluster (keys of
 * one call must share a slot) each change is its own `cart-apply` call.
 */
export class CartBatcher {
  private waiting: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly batching: boolean;

  constructor(
    private redis: Redis,
    /** cart-apply's ARGV[1] (settings and today), read when a call is sent. */
    private settings: () => string,
  ) {
    this.batching = !(redis as { isCluster?: boolean }).isCluster;
  }

  /** One cart-apply change; answers what cart-apply answers ("OK,<version>,<lines>", "MISSING", "FULL"). */
  apply(key: string, dirty: string, mode: ApplyMode, user: string, values: number[]): Promise<string> {
    if (!this.batching) return cartApply(this.redis, this.settings(), { key, dirty, mode, user, values });
    return new Promise((resolve, reject) => {
      this.waiting.push({ key, dirty, mode, user, values, resolve, reject });
      if (!this.scheduled && this.inFlight < MAX_IN_FLIGHT) {
        this.scheduled = true;
        setImmediate(this.flush);
      }
    });
  }

  private flush = (): void => {
    this.scheduled = false;
    while (this.waiting.length > 0 && this.inFlight < MAX_IN_FLIGHT) {
      const batch = this.waiting.length <= MAX_BATCH ? this.waiting : this.waiting.slice(0, MAX_BATCH);
      this.waiting = this.waiting.length <= MAX_BATCH ? [] : this.waiting.slice(MAX_BATCH);
      this.inFlight++;
      this.send(batch).then(this.done, this.done);
    }
  };

  private done = (): void => {
    this.inFlight--;
    if (this.waiting.length > 0 && !this.scheduled) this.flush();
  };

  private async send(batch: Pending[]): Promise<void> {
    cartBatchStats.calls++;
    cartBatchStats.changes += batch.length;
    try {
      if (batch.length === 1) {
        batch[0].resolve(await cartApply(this.redis, this.settings(), batch[0]));
        return;
      }
      const answers = await cartBatch(this.redis, this.settings(), batch);
      for (let i = 0; i < batch.length; i++) {
        const answer = answers[i];
        if (typeof answer === 'string') batch[i].resolve(answer);
        else batch[i].reject(answer);
      }
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}
