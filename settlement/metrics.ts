import { performance } from 'node:perf_hooks';
import { counter, histogram, sampledGauge } from '../infra/metrics.js';
import type { ReconcileResult } from './reconcile.js';

const pspCalls = counter('psp_calls_total', 'Calls to the payment provider by operation and outcome (ok, declined, rejected, error, unreachable)', ['operation', 'outcome']);
const pspDuration = histogram('psp_call_duration_seconds', 'Payment provider call latency by operation', ['operation'], [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]);
const checkouts = counter('settlement_checkouts_total', 'Checkout sagas run by the settlement worker, by outcome (paid, compensated, retried)', ['outcome']);
const jobDuration = histogram('settlement_job_duration_seconds', 'Settlement job run time by result (settled, retried)', ['result'], [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]);
const drift = counter('reconciliation_runs_total', 'Reconciliation runs by sale and result (ok, mismatch)', ['sale', 'result']);
const driftUnits = sampledGauge('reconciliation_drift_units', 'Units sold in Redis minus units in paid orders in Postgres at the last reconciliation run in this process, by sale', ['sale']);
const mismatches = sampledGauge('reconciliation_mismatches', 'Mismatches left after repairs at the last reconciliation run in this process, by sale', ['sale']);
const repairs = counter('reconciliation_repairs_total', 'Repairs made by reconciliation, by sale and action', ['sale', 'action']);
export const bullmqJobs = sampledGauge('bullmq_jobs', 'BullMQ jobs by queue and state', ['queue', 'state']);

export function observePspCall(operation: string, status: number | 'unreachable', startedAt: number): void {
  const outcome = status === 'unreachable' ? status : status < 300 ? 'ok' : status === 402 ? 'declined' : status < 500 && status !== 429 ? 'rejected' : 'error';
  pspCalls.labels(operation, outcome).inc();
  pspDuration.labels(operation).observe((performance.now() - startedAt) / 1000);
}

export function observeCheckout(outcome: string): void {
  checkouts.labels(outcome).inc();
}

export function observeJob(result: 'settled' | 'retried', startedAt: number): void {
  jobDuration.labels(result).observe((performance.now() - startedAt) / 1000);
}

const lastRun = new Map<string, ReconcileResult>();
driftUnits.add(() => [...lastRun.values()].map((r) => [{ sale: r.saleId }, r.redis.sold - r.postgres.paidUnits]));
mismatches.add(() => [...lastRun.values()].map((r) => [{ sale: r.saleId }, r.mismatches.length]));

export function observeReconciliation(r: ReconcileResult): void {
  lastRun.set(r.saleId, r);
  drift.labels(r.saleId, r.ok ? 'ok' : 'mismatch').inc();
  for (const repair of r.repaired) repairs.labels(r.saleId, repair.action).inc();
}
