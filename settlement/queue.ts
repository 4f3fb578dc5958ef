import { Queue, type JobsOptions } from 'bullmq';
import type { Config } from '../infra/config.js';
import type { Context } from '../infra/context.js';
import { SETTLEMENT_QUEUE } from './keys.js';
import type { SettleJob } from './settle.js';

/** A settlement job settles one checkout, or several at once (`checkouts`, from a checkout micro-batch). */
export type SettlementJobData = SettleJob | { checkouts: SettleJob[] };

export type SettlementQueue = Queue<SettlementJobData>;

export const checkoutsOf = (data: SettlementJobData): SettleJob[] => ('checkouts' in data ? data.checkouts : [data]);

export function createSettlementQueue(ctx: Context): SettlementQueue {
  return new Queue<SettlementJobData>(SETTLEMENT_QUEUE, { connection: ctx.bull.connection, prefix: ctx.bull.prefixFor(SETTLEMENT_QUEUE) });
}

/**
 * The job id is the reservation id for a job of one checkout (a re-enqueue), or the batch id the checkouts
 * of a batch recorded in their holds (checkout-batch.ts), so a checkout is never enqueued twice while its job exists. Completed
 * jobs are dropped at once (the hold is sold or released by then, so the checkout never re-enqueues it);
 * failed ones are kept a week for reconciliation and for people.
 */
export function settleJobOptions(config: Config, rid: string): JobsOptions {
  return {
    jobId: rid,
    attempts: config.settleAttempts,
    backoff: { type: CAPPED_BACKOFF },
    removeOnComplete: true,
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

/** The settlement jobs' backoff type; the worker computes it with `cappedBackoff`. */
export const CAPPED_BACKOFF = 'capped-exponential';

/**
 * Delay before retry `attemptsMade` + 1: base * 2^(attemptsMade - 1), at most `settleBackoffMaxMs`, with 50%
 * jitter (between half and all of it), so a long outage is retried every few seconds, not once an hour.
 */
export function cappedBackoff(config: Pick<Config, 'settleBackoffMs' | 'settleBackoffMaxMs'>, attemptsMade: number, random = Math.random()): number {
  const full = Math.min(config.settleBackoffMaxMs, config.settleBackoffMs * 2 ** Math.min(30, Math.max(0, attemptsMade - 1)));
  return Math.round(full * (0.5 + random * 0.5));
}

/** Whether this attempt at a checkout must decide an unknown payment: its budget or its attempts are spent. */
export function isFinalAttempt(config: Pick<Config, 'settleBudgetMs' | 'settleAttempts'>, checkoutAt: number, attemptsMade: number, now = Date.now()): boolean {
  return attemptsMade + 1 >= config.settleAttempts || now - checkoutAt >= config.settleBudgetMs;
}

export async function enqueueSettlement(queue: SettlementQueue, config: Config, job: SettleJob): Promise<void> {
  await queue.add('settle', job, settleJobOptions(config, job.rid));
}
