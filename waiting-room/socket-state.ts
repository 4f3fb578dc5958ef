import { StateMachine } from '../infra/state-machine.js';

/**
 * Where a waiting-room socket stands, as this process sees it:
 * - `joining` until the join script answered; `pow` when a proof of work is required first;
 * - `pre` in line before the queue shuffle gave a ticket, `waiting` with a ticket, `admitted` with a token;
 * - `done` when there is nothing more to wait for (sale closed, queue not open, place lost).
 * A socket in line or admitted only moves along the line or ends; a new `join` (from `pow` or `done`) starts
 * over. A status request or a resync re-delivers the current place, so a state may follow itself.
 */
export type SocketState = 'joining' | 'pow' | 'pre' | 'waiting' | 'admitted' | 'done';

const ALL: SocketState[] = ['joining', 'pow', 'pre', 'waiting', 'admitted', 'done'];
const IN_LINE: SocketState[] = ['pre', 'waiting', 'admitted', 'done'];

export const socketState = new StateMachine<SocketState>('socket', {
  joining: ALL,
  pow: ALL,
  pre: IN_LINE,
  waiting: IN_LINE,
  admitted: IN_LINE,
  done: ALL,
});

/** The one way a socket's state changes. */
export function moveSocket(c: { state: SocketState }, to: SocketState): void {
  socketState.assert(c.state, to);
  c.state = to;
}
