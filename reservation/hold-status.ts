import { StateMachine } from '../infra/state-machine.js';

/**
 * A hold (reservation) lives in Redis, in the sale's records hash, and changes status only inside the Lua
 * scripts: reserve makes it `held`; begin-checkout moves held -> paying; mark-sold paying -> sold; release
 * and fail-checkout give it back (held|paying -> released); the sweeper's expire moves held -> expired
 * (a paying hold is not in the expiry zset, but the shared return step would expire one that were).
 * Sold, released and expired are final. The scripts read the same table from
 * `lua/includes/hold-status.lua` (`holdCan`); status.test.ts keeps the two equal.
 */
export type HoldStatus = 'held' | 'paying' | 'sold' | 'released' | 'expired';

export const holdStatus = new StateMachine<HoldStatus>('hold', {
  held: ['paying', 'released', 'expired'],
  paying: ['sold', 'released', 'expired'],
  sold: [],
  released: [],
  expired: [],
});
