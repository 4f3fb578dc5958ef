import { StateMachine } from '../infra/state-machine.js';

/**
 * Order status as an explicit state machine. Flash orders are `pending` while their payment is in flight
 * (in Redis, before the row exists), then written once as `paid` or `failed`. Only a paid order ships.
 * Storefront orders are written `paid` by their checkout.
 */
export type OrderStatus = 'pending' | 'paid' | 'failed' | 'shipped';

export const orderStatus = new StateMachine<OrderStatus>('order', {
  pending: ['paid', 'failed'],
  paid: ['shipped'],
  failed: [],
  shipped: [],
});

/** Orders whose units are sold: paid, and anything a paid order can become. */
export const PAID_ORDER_STATUSES = orderStatus.andAfter('paid');
