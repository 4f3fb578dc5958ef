import { performance } from 'node:perf_hooks';
import { Worker } from 'bullmq';
import type { Context } from '../infra/context.js';
import { SETTLEMENT_QUEUE } from './keys.js';
import { OrderWriter, type OrderWriterOptions } from './order-writer.js';
import type { PaymentProvider } from './payments.js';
import { cappedBackoff, CAPPED_BACKOFF, checkoutsOf, isFinalAttempt, type SettlementJobData } from './queue.js';
import { settle, settlementSteps } from './settle.js';
import { SoldMarker } from './sold-marker.js';
import { observeCheckout, observeJob } from './metrics.js';

export interface SettlementWorkerOptions {
  concurrency?: number;
  writer?: OrderWriterOptions;
}

export interface SettlementWorker {
  worker: Worker<SettlementJobData>;
  writer: OrderWriter;
  stop: () => Promise<void>;
}

/**
 * The BullMQ worker that settles checkouts: a job carries one checkout or a batch of them
 * (checkout-batch.ts), and each checkout runs the saga in settle.ts. A transient error
 * (PSP timeout, Postgres down) fails the attempt and BullMQ retries it with exponential backoff; every
 * step is idempotent, so a retry (or a job re-run after a worker crash) never charges or writes twice.
 * Order rows from all concurrent jobs meet in one OrderWriter and go to Postgres in batches; the holds
 * of the orders committed together are then marked sold together (SoldMarker, one script call per sale).
 */
export function startSettlementWorker(ctx: Context, provider: PaymentProvider, opts: SettlementWorkerOptions = {}): SettlementWorker {
  const writer = new OrderWriter(ctx.db, ctx.log, opts.writer);
  const deps = { ctx, provider, writer, marker: new SoldMarker(ctx) };
  const steps = settlementSteps(deps);
  const worker = new Worker<SettlementJobData>(
    SETTLEMENT_QUEUE,
    async (job) => {
      const startedAt = performance.now();
      const checkouts = checkoutsOf(job.data);
      const now = Date.now();
      const config = { settleBudgetMs: ctx.config.settleBudgetMs, settleAttempts: job.opts.attempts ?? 1 };
      // The checkouts of one job settle side by side, each its own saga, each with its own budget.
      const results = await Promise.allSettled(checkouts.map((c) => settle(deps, c, isFinalAttempt(config, c.checkoutAt, job.attemptsMade, now), steps)));
      const unsettled = checkouts.filter((_, i) => results[i].status === 'rejected');
      for (const [i, r] of results.entries()) {
        observeCheckout(r.status === 'rejected' ? 'retried' : r.value.outcome === 'completed' ? 'paid' : 'compensated');
        if (r.status === 'fulfilled' && r.value.outcome === 'compensated') ctx.log.info({ rid: checkouts[i].rid, reason: r.value.abort?.reason }, 'checkout failed; hold released');
      }
      observeJob(unsettled.length === 0 ? 'settled' : 'retried', startedAt);
      if (unsettled.length === 0) return 'settled';
      // Only the checkouts that met a transient error are retried (the others are settled for good).
      if (unsettled.length < checkouts.length) await job.updateData({ checkouts: unsettled });
      throw (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason;
    },
    {
      connection: ctx.newRedis('queue'),
      prefix: ctx.bull.prefixFor(SETTLEMENT_QUEUE),
      concurrency: opts.concurrency ?? ctx.config.workerConcurrency,
      lockDuration: ctx.config.settleLockMs,
      // Jobs of a crashed worker go back to the queue once their lock lapses and a live worker's stalled
      // check runs: within lockDuration + stalledInterval (8 s with the defaults).
      stalledInterval: Math.max(1_000, Math.round(ctx.config.settleLockMs * 0.6)),
      // Retries through an outage: capped exponential backoff (queue.ts), until the budget is spent.
      settings: {
        backoffStrategy: (attemptsMade: number, type?: string) => (type === CAPPED_BACKOFF ? cappedBackoff(ctx.config, attemptsMade) : 0),
      },
      // A job interrupted by a crash is simply run again (every step is idempotent).
      maxStalledCount: 10,
    },
  );
  worker.on('failed', (job, err) => {
    const last = job && job.attemptsMade >= (job.opts.attempts ?? 1);
    ctx.log[last ? 'error' : 'warn']({ err: last ? err : err.message, rids: job && checkoutsOf(job.data).map((c) => c.rid), attempt: job?.attemptsMade }, last ? 'settlement gave up; reconciliation will repair' : 'settlement attempt failed; retrying');
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
