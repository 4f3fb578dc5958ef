import { AppError } from '../infra/errors.js';

/**
 * Sale status is this table and nothing else: scheduled -> open -> closed, and scheduled|open -> cancelled.
 * Closed and cancelled are final.
 */
export type SaleStatus = 'scheduled' | 'open' | 'closed' | 'cancelled';

export const saleTransitions: Readonly<Record<SaleStatus, readonly SaleStatus[]>> = {
  scheduled: ['open', 'cancelled'],
  open: ['closed', 'cancelled'],
  closed: [],
  cancelled: [],
};

export function canTransition(from: SaleStatus, to: SaleStatus): boolean {
  return saleTransitions[from].includes(to);
}

export function assertTransition(from: SaleStatus, to: SaleStatus): void {
  if (!canTransition(from, to)) throw new AppError('invalid_state', `a ${from} sale cannot become ${to}`);
}

export const isFinal = (s: SaleStatus) => saleTransitions[s].length === 0;
