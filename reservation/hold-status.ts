import { StateMachine } from '../infra/state-machine.js';

/**
 * A hold (reservation) lives in Redis, in the sale's records hash, and changes status only inside the Lua
 * scripts: reserve makes it `held`; begin-checkout moves held -> paying; mark-sold paying -> sold; release
 * and fail-checkout give it back (held|paying -> released); the sweeper's expire moves held -> expired.
 * Sold, released and expired are final.
 */
export type HoldStatus = 'held' | 'paying' | 'sold' | 'released' | 'expired';

export const holdStatus = new StateMachine<HoldStatus>('hold', {
  held: ['paying', 'released', 'expired'],
  paying: ['sold', 'released'],
  sold: [],
  released: [],
  expired: [],
});
