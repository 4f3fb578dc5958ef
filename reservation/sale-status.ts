import { StateMachine } from '../infra/state-machine.js';

/**
 * Sale status is this table and nothing else: scheduled -> open -> closed, and scheduled|open -> cancelled.
 * Closed and cancelled are final. Postgres `sales.status` changes only through `saleStatus.from(to)` guards;
 * Redis keeps a copy in the sale's meta hash for the Lua scripts.
 */
export type SaleStatus = 'scheduled' | 'open' | 'closed' | 'cancelled';

export const saleStatus = new StateMachine<SaleStatus>('sale', {
  scheduled: ['open', 'cancelled'],
  open: ['closed', 'cancelled'],
  closed: [],
  cancelled: [],
});

/** Has the sale ended (closed, cancelled, or past its end time)? Nobody may queue for or reserve in it. */
export function saleEnded(sale: { status: SaleStatus; endsAt: Date }, now = Date.now()): boolean {
  return saleStatus.isFinal(sale.status) || now >= sale.endsAt.getTime();
}
