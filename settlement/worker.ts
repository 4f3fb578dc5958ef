import { Worker } from 'bullmq';
import type { Context } from '../infra/context.js';
import { SETTLEMENT_QUEUE } from './keys.js';
import { OrderWriter, type OrderWriterOptions } from './order-writer.js';
import type { PaymentProvider } from './payments.js';
import { settle, settlementSteps, type SettleJob } from './settle.js';

export interface SettlementWorkerOptions {
  concurrency?: number;
  writer?: OrderWriterOptions;
}

export interface SettlementWorker {
  worker: Worker<SettleJob>;
  writer: OrderWriter;
  stop: () => Promise<void>;
}

/**
 * The BullMQ worker that settles checkouts: each job runs the saga in settle.ts. A transient error
 * (PSP timeout, Postgres down) fails the attempt and BullMQ retries it with exponential backoff; every
 * step is idempotent, so a retry (or a job re-run after a worker crash) never charges or writes twice.
 * Order rows from all concurrent jobs meet in one OrderWriter and go to Postgres in batches.
 */
export function startSettlementWorker(ctx: Context, provider: PaymentProvider, opts: SettlementWorkerOptions = {}): SettlementWorker {
  const writer = new OrderWriter(ctx.db, ctx.log, opts.writer);
  const deps = { ctx, provider, writer };
  const steps = settlementSteps(deps);
  const worker = new Worker<SettleJob>(
    SETTLEMENT_QUEUE,
    async (job) => {
      const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const result = await settle(deps, job.data, finalAttempt, steps);
      if (result.outcome === 'compensated') ctx.log.info({ rid: job.data.rid, reason: result.abort?.reason }, 'checkout failed; hold released');
      return result.outcome;
    },
    {
      connection: ctx.newRedis('queue'),
      prefix: ctx.bull.prefix,
      concurrency: opts.concurrency ?? ctx.config.workerConcurrency,
      lockDuration: ctx.config.settleLockMs,
      // Jobs of a crashed worker go back to the queue once their lock lapses.
      stalledInterval: ctx.config.settleLockMs,
      // A job interrupted by a crash is simply run again (every step is idempotent).
      maxStalledCount: 10,
    },
  );
  worker.on('failed', (job, err) => {
    const last = job && job.attemptsMade >= (job.opts.attempts ?? 1);
    ctx.log[last ? 'error' : 'warn']({ err: last ? err : err.message, rid: job?.data.rid, attempt: job?.attemptsMade }, last ? 'settlement gave up; reconciliation will repair' : 'settlement attempt failed; retrying');
  });
  worker.on('error', (err) => ctx.log.error({ err }, 'settlement worker error'));
  return {
    worker,
    writer,
    stop: async () => {
      await worker.close();
      await writer.drain();
    },
  };
}
