import { randomUUID } from 'node:crypto';
import type { Config } from '../infra/config.js';
import { settleJobOptions, type SettlementQueue } from './queue.js';
import type { SettleJob } from './settle.js';

export interface CheckoutBatchOptions {
  /** Most checkouts per settlement job. */
  maxSize?: number;
  /** How long a batch stays open for more checkouts after its first one joined (ms). */
  lingerMs?: number;
}

/**
 * One settlement job in the making. Its id is chosen when it opens, before any of its checkouts begins, so
 * each hold records (begin-checkout Lua, `jobId`) which job settles it: a replayed checkout and
 * reconciliation find the live job of a hold by that id, and never start a second saga beside it.
 * The job is added once every member has either handed in its checkout (`submit`) or dropped out
 * (`withdraw`); `submit` resolves when the job is in the queue.
 */
export class CheckoutBatch {
  readonly id = `batch-${randomUUID()}`;
  private members = 0;
  private answered = 0;
  private closed = false;
  private added = false;
  private readonly checkouts: SettleJob[] = [];
  private readonly waiting: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];

  constructor(
    private readonly queue: SettlementQueue,
    private readonly config: Config,
  ) {}

  get size(): number {
    return this.members;
  }

  join(): void {
    this.members++;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.maybeAdd();
  }

  submit(job: SettleJob): Promise<void> {
    return new Promise((resolve, reject) => {
      this.checkouts.push(job);
      this.waiting.push({ resolve, reject });
      this.answered++;
      this.maybeAdd();
    });
  }

  withdraw(): void {
    this.answered++;
    this.maybeAdd();
  }

  private maybeAdd(): void {
    if (!this.closed || this.added || this.answered < this.members || this.checkouts.length === 0) return;
    this.added = true;
    const data = this.checkouts.length === 1 ? this.checkouts[0] : { checkouts: this.checkouts };
    const waiting = this.waiting.splice(0);
    this.queue.add('settle', data, settleJobOptions(this.config, this.id)).then(
      () => waiting.forEach((w) => w.resolve()),
      (err: unknown) => waiting.forEach((w) => w.reject(err)),
    );
  }
}

/**
 * The checkout micro-batcher of one process: checkouts arriving within `lingerMs` of each other (up to
 * `maxSize`) are settled by one BullMQ job, which saves the queue's per-job work (its Lua calls, job
 * (de)serialisation) on all but one of them. A lone checkout waits `lingerMs` at most.
 */
export class CheckoutBatcher {
  private open: CheckoutBatch | undefined;
  private readonly maxSize: number;
  private readonly lingerMs: number;

  constructor(
    private readonly queue: SettlementQueue,
    private readonly config: Config,
    opts: CheckoutBatchOptions = {},
  ) {
    this.maxSize = opts.maxSize ?? 10;
    this.lingerMs = opts.lingerMs ?? 2;
  }

  /** The batch a new checkout joins; it must later `submit` or `withdraw` exactly once. */
  join(): CheckoutBatch {
    let batch = this.open;
    if (!batch) {
      const opened = (batch = this.open = new CheckoutBatch(this.queue, this.config));
      setTimeout(() => this.closeOpen(opened), this.lingerMs);
    }
    batch.join();
    if (batch.size >= this.maxSize) this.closeOpen(batch);
    return batch;
  }

  private closeOpen(batch: CheckoutBatch): void {
    if (this.open === batch) this.open = undefined;
    batch.close();
  }
}

const batchers = new WeakMap<SettlementQueue, CheckoutBatcher>();

/** The process's batcher for this queue. */
export function batcherFor(queue: SettlementQueue, config: Config): CheckoutBatcher {
  let b = batchers.get(queue);
  if (!b) batchers.set(queue, (b = new CheckoutBatcher(queue, config)));
  return b;
}
