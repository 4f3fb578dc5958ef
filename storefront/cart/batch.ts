import { Batcher } from '../../infra/batch.js';
import type { Redis } from '../../infra/redis.js';
import { cartApply, cartBatch, type ApplyMode, type CartChange } from '../scripts.js';

/** Script calls the batchers of this process sent, and the changes they carried (mean batch: changes / calls). */
export const cartBatchStats = { calls: 0, changes: 0 };

/**
 * Coalesces the cart changes that reach this process in one event-loop turn into one `cart-batch` script
 * call (on infra/batch.ts, as reservation/batcher.ts does for reservations): a script call has a fixed cost
 * (the client's command and reply, Redis's call setup and I/O) well above the work of one cart change. The
 * script makes each change exactly as its own `cart-apply` call would, in arrival order, and answers each
 * what that call answers. A lone change uses `cart-apply` directly, so an idle gateway waits for one
 * setImmediate at most. At most 2 batches of 200 are in flight: changes that arrive meanwhile form the next
 * batch, so batches grow with load. A batch spans carts of any slot, which a single Redis allows; on Redis
 * Cluster (keys of one call must share a slot) each change is its own `cart-apply` call.
 */
export class CartBatcher {
  private readonly batcher: Batcher<CartChange, string> | undefined;

  constructor(
    private redis: Redis,
    /** cart-apply's ARGV[1] (settings and today), read when a call is sent. */
    private settings: () => string,
  ) {
    const cluster = (redis as { isCluster?: boolean }).isCluster;
    this.batcher = cluster ? undefined : new Batcher({ maxSize: 200, maxInFlight: 2, schedule: 'turn' }, (batch) => this.send(batch));
  }

  /** One cart-apply change; answers what cart-apply answers ("OK,<version>,<lines>", "MISSING", "FULL"). */
  apply(key: string, dirty: string, mode: ApplyMode, user: string, values: number[]): Promise<string> {
    if (!this.batcher) return cartApply(this.redis, this.settings(), { key, dirty, mode, user, values });
    return this.batcher.add({ key, dirty, mode, user, values });
  }

  private async send(batch: CartChange[]): Promise<Array<string | Error>> {
    cartBatchStats.calls++;
    cartBatchStats.changes += batch.length;
    if (batch.length === 1) return [await cartApply(this.redis, this.settings(), batch[0])];
    return cartBatch(this.redis, this.settings(), batch);
  }
}
