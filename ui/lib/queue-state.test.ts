import { describe, expect, it } from 'vitest';
import { backoffDelay } from './queue-socket.js';
import { applyLocal, applyMessage, initialState, isFinished, progress, shownEta, shownPosition, type QueueState } from './queue-state.js';
import { toMessages } from './queue-poll.js';

const queued = (ticket: number, position: number): QueueState => applyMessage(initialState, { type: 'queued', ticket, position, etaSeconds: 60 });

describe('queue page state', () => {
  it('a position update never moves the shopper back in line', () => {
    let s = queued(7, 100);
    s = applyMessage(s, { type: 'position', position: 40, etaSeconds: 20 });
    s = applyMessage(s, { type: 'position', position: 55, etaSeconds: 30 });
    expect(s.position).toBe(40);
    expect(s.etaSeconds).toBe(30);
    expect(progress(s)).toBeCloseTo(0.6);
  });

  it('a reconnect with the same ticket keeps the progress bar; a new ticket restarts it', () => {
    let s = applyMessage(queued(7, 100), { type: 'position', position: 50 });
    s = applyMessage(s, { type: 'queued', ticket: 7, position: 50, etaSeconds: 10 });
    expect(s.startPosition).toBe(100);
    s = applyMessage(s, { type: 'queued', ticket: 900, position: 300, etaSeconds: 10 });
    expect(s).toMatchObject({ ticket: 900, position: 300, startPosition: 300, phase: 'queued' });
  });

  it('a broadcast serving position gives the position from the ticket', () => {
    let s = queued(120, 100);
    s = applyMessage(s, { type: 'position', serving: 50 });
    expect(s.position).toBe(70);
    s = applyMessage(s, { type: 'position', serving: 30 });
    expect(s.position).toBe(70);
    s = applyMessage(s, { type: 'position', serving: 100, perSecond: 4 });
    expect(s).toMatchObject({ position: 20, etaSeconds: 5 });
    s = applyMessage(s, { type: 'position', serving: 200, perSecond: 4 });
    expect(s.position).toBe(1); // next in line, never 0 before the admission itself
  });

  it('admitted, reserve, reserved; a refused token ends the turn', () => {
    let s = applyMessage(queued(1, 3), { type: 'admitted', admissionToken: 'tok', expiresAt: '2030-01-01T00:00:00.000Z' });
    expect(s.phase).toBe('admitted');
    expect(progress(s)).toBe(1);
    s = applyLocal(s, { type: 'reserve_started' });
    expect(s.phase).toBe('reserving');
    const ok = applyLocal(s, { type: 'reserved', reservation: { reservationId: 'r1', quantity: 1, expiresAt: '2030-01-01T00:05:00.000Z' } });
    expect(ok.phase).toBe('reserved');
    expect(isFinished(ok)).toBe(false); // stays connected for the order message
    expect(applyLocal(s, { type: 'reserve_failed', code: 'not_admitted', message: 'x' }).phase).toBe('expired');
    expect(applyLocal(s, { type: 'reserve_failed', code: 'sold_out', message: 'x' }).phase).toBe('sold_out');
    expect(applyLocal(s, { type: 'reserve_failed', code: 'limit_reached', message: 'limit' })).toMatchObject({ phase: 'admitted', notice: 'limit' });
  });

  it('a non-final sell-out keeps the place and resumes; a final one and a close end the page', () => {
    let s = applyMessage(queued(5, 10), { type: 'sold_out', final: false });
    expect(s).toMatchObject({ phase: 'sold_out', soldOutFinal: false });
    expect(isFinished(s)).toBe(false);
    s = applyMessage(s, { type: 'position', position: 4 });
    expect(s.phase).toBe('queued');
    expect(isFinished(applyMessage(s, { type: 'sold_out', final: true }))).toBe(true);
    const closed = applyMessage(s, { type: 'closed' });
    expect(closed.phase).toBe('closed');
    expect(applyMessage(closed, { type: 'queued', ticket: 5, position: 1 }).phase).toBe('closed');
  });

  it('an admitted shopper keeps the Reserve button through a non-final sell-out', () => {
    const s = applyMessage(applyMessage(queued(1, 1), { type: 'admitted', admissionToken: 't', expiresAt: '2030-01-01T00:00:00Z' }), { type: 'sold_out', final: false });
    expect(s).toMatchObject({ phase: 'admitted', soldOutFinal: false });
  });

  it('before the start the shopper has a place but no ticket; the shuffle then hands one out', () => {
    let s = applyMessage(initialState, { type: 'queued', ticket: null, position: null, etaSeconds: null });
    expect(s).toMatchObject({ phase: 'queued', ticket: undefined, position: undefined });
    expect(progress(s)).toBe(0);
    s = applyMessage(s, { type: 'queued', ticket: 31, position: 31, etaSeconds: 4 });
    expect(s).toMatchObject({ phase: 'queued', ticket: 31, position: 31, startPosition: 31 });
  });

  it('malformed messages change nothing', () => {
    const s = queued(1, 5);
    expect(applyMessage(s, { type: 'queued', ticket: 'x', position: null } as never)).toBe(s);
    expect(applyMessage(s, { type: 'position' })).toBe(s);
    expect(applyMessage(s, { type: 'admitted' } as never)).toBe(s);
    expect(applyMessage(s, { type: 'nonsense' } as never)).toBe(s);
  });

  it('reconnect backoff grows, is capped, and is jittered', () => {
    expect(backoffDelay(0, { random: () => 0 })).toBe(250);
    expect(backoffDelay(3, { random: () => 1 })).toBe(4000);
    expect(backoffDelay(50, { random: () => 1 })).toBe(15_000);
    expect(backoffDelay(50, { random: () => 0 })).toBe(7500);
  });

  it('HTTP fallback answers become the same messages as the socket', () => {
    expect(toMessages({ status: 'waiting', position: 3, etaSeconds: 9 })).toEqual([{ type: 'position', position: 3, etaSeconds: 9 }]);
    expect(toMessages({ status: 'admitted', admissionToken: 't', admissionExpiresAt: 'e' })).toEqual([{ type: 'admitted', admissionToken: 't', expiresAt: 'e' }]);
    expect(toMessages({ status: 'closed' })).toEqual([{ type: 'closed' }]);
  });
});

describe('proof of work', () => {
  it('the page finds a nonce the waiting room accepts', async () => {
    const { solve } = await import('./queue-pow.js');
    const { checkPow } = await import('../../waiting-room/index.js');
    const nonce = await solve('42', '7', 12, 500);
    expect(checkPow('42', '7', nonce, 12)).toBe(true);
    expect(checkPow('42', '8', nonce, 12)).toBe(false);
  });

  it('between refreshes far back the page moves position and ETA on with the measured rate, up to the promised next refresh, never up', () => {
    const t0 = 1_000_000;
    let s = applyMessage(initialState, { type: 'queued', ticket: 5000, position: 4000, etaSeconds: 40 }, t0);
    s = applyMessage(s, { type: 'position', serving: 1000, perSecond: 100, nextRefreshMs: 4000 }, t0 + 100);
    expect(shownPosition(s, t0 + 100)).toBe(3990); // the estimate from `queued` had moved on already
    expect(shownPosition(s, t0 + 2100)).toBe(3800);
    expect(shownEta(s, t0 + 2100)).toBe(38);
    expect(shownPosition(s, t0 + 60_000)).toBe(3600); // no farther than the promised refresh (4 s)
    expect(progress(s, t0 + 2100)).toBeCloseTo(0.05);
    // the next refresh comes in behind the estimate (the line slowed): the page holds, it does not go back
    s = applyMessage(s, { type: 'position', serving: 1300, perSecond: 50, nextRefreshMs: 4000 }, t0 + 4100);
    expect(s.position).toBe(3600);
    expect(shownPosition(s, t0 + 5100)).toBe(3600);
    expect(shownPosition(s, t0 + 8100)).toBe(3500);
    // a server that sends no rate: position / ETA; nothing at all: as heard
    const p = applyMessage(initialState, { type: 'queued', ticket: 300, position: 200, etaSeconds: 20 }, t0);
    expect(shownPosition(p, t0 + 1000)).toBe(190);
    const q = applyMessage(initialState, { type: 'queued', ticket: 300, position: 200, etaSeconds: null }, t0);
    expect(shownPosition(q, t0 + 1000)).toBe(200);
  });
});
