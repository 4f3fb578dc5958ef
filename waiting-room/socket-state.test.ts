import { expect, it } from 'vitest';
import { moveSocket, socketState, type SocketState } from './socket-state.js';

it('socket state: a socket in line or admitted only moves along the line or ends; joining, pow and done may go anywhere', () => {
  const inLine: SocketState[] = ['pre', 'waiting', 'admitted'];
  for (const from of inLine) {
    expect(socketState.can(from, 'joining')).toBe(false);
    expect(socketState.can(from, 'pow')).toBe(false);
    for (const to of [...inLine, 'done'] as SocketState[]) expect(socketState.can(from, to)).toBe(true);
  }
  for (const from of ['joining', 'pow', 'done'] as SocketState[]) for (const to of socketState.states) expect(socketState.can(from, to)).toBe(true);
  expect(socketState.finals).toEqual([]);
  const c = { state: 'waiting' as SocketState };
  moveSocket(c, 'admitted');
  expect(c.state).toBe('admitted');
  expect(() => moveSocket(c, 'joining')).toThrow('a admitted socket cannot become joining');
  expect(c.state).toBe('admitted');
});
