import { randomUUID } from 'node:crypto';
import { Batcher } from '../infra/batch.js';
import type { Config } from '../infra/config.js';
import { settleJobOptions, type SettlementQueue } from './queue.js';
import type { SettleJob } from './settle.js';

export interface CheckoutBatchOptions {
  /** Most checkouts per settlement job. */
  maxSize?: number;
  /** How long a batch stays open for more checkouts after its first one joined (ms). */
  lingerMs?: number;
}

/** A checkout's place in a batch: what it hands in (its job, or null when it dropped out). */
interface Member {
  answer: Promise<SettleJob | null>;
}

/**
 * A checkout's membership of one settlement job in the making. The job's id is chosen when its batch
 * opens, before any of its checkouts begins, so each hold records (begin-checkout Lua, `jobId`) which job
 * settles it: a replayed checkout and reconciliation find the live job of a hold by that id, and never start
 * a second saga beside it. The job is added once every member has either handed in its checkout (`submit`)
 * or dropped out (`withdraw`), exactly once each.
 */
export class CheckoutBatch {
  constructor(
    readonly id: string,
    private readonly answer: (job: SettleJob | null) => void,
    private readonly added: Promise<void>,
  ) {}

  /** Hands in the checkout; resolves when its job is in the queue. */
  submit(job: SettleJob): Promise<void> {
    this.answer(job);
    return this.added;
  }

  withdraw(): void {
    this.answer(null);
  }
}

/**
 * The checkout micro-batcher of one process: checkouts arriving within `lingerMs` of each other (up to
 * `maxSize`) are settled by one BullMQ job, which saves the queue's per-job work (its Lua calls, job
 * (de)serialisation) on all but one of them. A lone checkout waits `lingerMs` at most.
 */
export class CheckoutBatcher {
  private readonly batcher: Batcher<Member, void, string>;

  constructor(
    private readonly queue: SettlementQueue,
    private readonly config: Config,
    opts: CheckoutBatchOptions = {},
  ) {
    this.batcher = new Batcher<Member, void, string>(
      { maxSize: opts.maxSize ?? 10, maxInFlight: Infinity, schedule: opts.lingerMs ?? 2 },
      (members, id) => this.addJob(members, id),
      () => `batch-${randomUUID()}`,
    );
  }

  /** The batch a new checkout joins; it must later `submit` or `withdraw` exactly once. */
  join(): CheckoutBatch {
    let answer!: (job: SettleJob | null) => void;
    const member: Member = { answer: new Promise((resolve) => (answer = resolve)) };
    const { label, result } = this.batcher.join(member);
    result.catch(() => {}); // a member that withdrew has nobody waiting for the job
    return new CheckoutBatch(label, answer, result);
  }

  private async addJob(members: Member[], id: string): Promise<void[]> {
    const checkouts = (await Promise.all(members.map((m) => m.answer))).filter((job): job is SettleJob => job !== null);
    if (checkouts.length > 0) {
      const data = checkouts.length === 1 ? checkouts[0] : { checkouts };
      await this.queue.add('settle', data, settleJobOptions(this.config, id));
    }
    return members.map(() => undefined);
  }
}
