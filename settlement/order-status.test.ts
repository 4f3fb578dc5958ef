import { expect, it } from 'vitest';
import { orderStatus, PAID_ORDER_STATUSES } from './order-status.js';

it('order status: pending -> paid|failed, paid -> shipped; failed and shipped are final; paid units are paid or shipped', () => {
  const moves = orderStatus.states.flatMap((a) => orderStatus.states.filter((b) => orderStatus.can(a, b)).map((b) => `${a} -> ${b}`));
  expect(moves.sort()).toEqual(['paid -> shipped', 'pending -> failed', 'pending -> paid']);
  expect(orderStatus.from('shipped')).toEqual(['paid']);
  expect(orderStatus.finals).toEqual(['failed', 'shipped']);
  expect(PAID_ORDER_STATUSES.sort()).toEqual(['paid', 'shipped']);
  expect(() => orderStatus.assert('failed', 'shipped')).toThrow('a failed order cannot become shipped');
});
