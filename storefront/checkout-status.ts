import { StateMachine } from '../infra/state-machine.js';

/**
 * A storefront checkout: `reserved` once its stock is taken, then `completed` (its order written) or
 * `failed` (stock given back), exactly once each: every change is guarded by `checkoutStatus.from(to)`.
 */
export type CheckoutStatus = 'reserved' | 'completed' | 'failed';

export const checkoutStatus = new StateMachine<CheckoutStatus>('checkout', {
  reserved: ['completed', 'failed'],
  completed: [],
  failed: [],
});
