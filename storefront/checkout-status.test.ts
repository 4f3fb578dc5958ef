import { expect, it } from 'vitest';
import { checkoutStatus } from './checkout-status.js';

it('checkout status: reserved -> completed|failed, once; completed and failed are final', () => {
  const moves = checkoutStatus.states.flatMap((a) => checkoutStatus.states.filter((b) => checkoutStatus.can(a, b)).map((b) => `${a} -> ${b}`));
  expect(moves.sort()).toEqual(['reserved -> completed', 'reserved -> failed']);
  expect(checkoutStatus.from('completed')).toEqual(['reserved']);
  expect(checkoutStatus.from('failed')).toEqual(['reserved']);
  expect(checkoutStatus.live).toEqual(['reserved']);
});
