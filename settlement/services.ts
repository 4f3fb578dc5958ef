import type { Context } from '../infra/context.js';
import { notFound } from '../infra/errors.js';
import { CheckoutBatcher } from './checkout-batch.js';
import { OrderWriter } from './order-writer.js';
import type { PaymentProvider } from './payments.js';
import { createPaymentProvider } from './psp-client.js';
import { createSettlementQueue, type SettlementQueue } from './queue.js';
import { reconcileSale, type ReconcileOptions, type ReconcileResult } from './reconcile.js';
import { startReconciliation } from './reconcile-job.js';
import { checkQueueRedis } from './redis-check.js';
import { bullmqJobs } from './metrics.js';
import { startSettlementWorker, type SettlementWorkerOptions } from './worker.js';

/** What the settlement routes, worker and reconciliation share in one process. */
export interface SettlementServices {
  ctx: Context;
  provider: PaymentProvider;
  queue: SettlementQueue;
  /** Order writes made outside the worker (reconciliation repairs). */
  writer: OrderWriter;
  /** Checkouts arriving together share one settlement job. */
  checkouts: CheckoutBatcher;
}

export function createSettlementServices(ctx: Context, provider: PaymentProvider = createPaymentProvider(ctx.config)): SettlementServices {
  // A Postgres restart kills idle pooled connections; without a listener the pool's error would crash us.
  const queue = createSettlementQueue(ctx);
  const services: SettlementServices = {
    ctx,
    provider,
    queue,
    writer: new OrderWriter(ctx.db, ctx.log, { maxInFlight: 1 }),
    checkouts: new CheckoutBatcher(queue, ctx.config),
  };
  const unsample = bullmqJobs.add(async () => {
    const counts = await services.queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
    return Object.entries(counts).map(([state, n]) => [{ queue: 'settlement', state }, n]);
  });
  ctx.onClose(async () => {
    unsample();
    await services.writer.drain();
    await services.queue.close();
    await provider.close?.();
  });
  return services;
}

/** Runs reconciliation of one sale now (admin action; tests). */
export async function reconcileNow(services: SettlementServices, saleId: string, opts?: ReconcileOptions): Promise<ReconcileResult> {
  const { rowCount } = await services.ctx.db.query('SELECT 1 FROM sales WHERE id = $1', [saleId]);
  if (!rowCount) throw notFound('sale');
  return reconcileSale(services, saleId, opts);
}

/**
 * Starts the background work of settlement in this process: the queue Redis check, the settlement
 * worker and the reconciliation jobs. Resolves to its stop function.
 */
export async function startSettlement(services: SettlementServices, opts: SettlementWorkerOptions = {}): Promise<() => Promise<void>> {
  await checkQueueRedis(services.ctx);
  const worker = startSettlementWorker(services.ctx, services.provider, opts);
  const stopReconciliation = await startReconciliation(services);
  return async () => {
    await stopReconciliation();
    await worker.stop();
  };
}
