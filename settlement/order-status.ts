import { AppError } from '../infra/errors.js';

/**
 * Order status as an explicit state machine. Flash orders are `pending` while their payment is in flight
 * (in Redis, before the row exists), then written once as `paid` or `failed`. Only a paid order ships.
 */
export type OrderStatus = 'pending' | 'paid' | 'failed' | 'shipped';

export const orderTransitions: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  pending: ['paid', 'failed'],
  paid: ['shipped'],
  failed: [],
  shipped: [],
};

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return orderTransitions[from].includes(to);
}

/** The statuses an order may be in to move to `to` (for `UPDATE ... WHERE status = ANY(...)`). */
export function statusesBefore(to: OrderStatus): OrderStatus[] {
  return (Object.keys(orderTransitions) as OrderStatus[]).filter((from) => canTransition(from, to));
}

export function assertTransition(from: OrderStatus, to: OrderStatus): void {
  if (!canTransition(from, to)) throw new AppError('invalid_state', `an order cannot go from ${from} to ${to}`);
}
