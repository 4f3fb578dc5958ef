import type { Context } from '../infra/context.js';
import type { Part } from '../infra/part.js';
import type { PaymentProvider } from './payments.js';
import { settlementRoutes } from './routes.js';
import { createSettlementServices, startSettlement } from './services.js';
import { settlementApi } from './api.js';

/**
 * Settlement: checkout of a hold (POST /api/reservations/:id/checkout), the checkout saga on a BullMQ
 * worker (charge, order written in batches, hold sold, shopper told), order history, and reconciliation.
 */
export function settlementPart(ctx: Context, provider?: PaymentProvider): Part {
  const services = createSettlementServices(ctx, provider);
  return {
    name: 'settlement',
    routes: settlementRoutes(ctx, services),
    api: settlementApi,
    pages: [{ path: '/orders', script: 'orders', title: 'Your orders' }],
    start: () => startSettlement(services),
  };
}

export { createSettlementServices, startSettlement, reconcileNow, type SettlementServices } from './services.js';
export { checkout, type CheckoutRequest, type CheckoutResult } from './checkout.js';
export { getOrder, listOrders, shipOrder, type OrderView, type OrderPage } from './orders.js';
export { orderStatus, PAID_ORDER_STATUSES, type OrderStatus } from './order-status.js';
export { reconcileSale, type ReconcileResult } from './reconcile.js';
export { startSettlementWorker } from './worker.js';
export { pendingOrdersKey } from './keys.js';
export { createPaymentProvider, HttpPaymentProvider } from './psp-client.js';
export { startPspServer, pspOptionsFromEnv, wholeNumber, type PspServer, type PspOptions } from './psp/server.js';
export { parseFailureRate, parseLatency } from './psp/methods.js';
export { PaymentRequestError, PaymentTimeoutError, type PaymentProvider, type Charge, type ChargeRequest, type PaymentMethod } from './payments.js';
