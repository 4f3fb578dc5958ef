import { describe, expect, it } from 'vitest';
import { applyLocal, applyMessage, initialState, isFinished, type QueueState } from './queue-state.js';

const hold = { reservationId: '9-1', quantity: 1, expiresAt: '2030-01-01T00:00:00.000Z' };
const reserved: QueueState = { ...initialState, phase: 'reserved', reservation: hold };

describe('queue page pay step', () => {
  it('Pay: pending, then paid from the socket; a later pending never undoes paid', () => {
    let s = applyLocal(reserved, { type: 'pay_started' });
    expect(s.payBusy).toBe(true);
    s = applyLocal(s, { type: 'pay_accepted', orderId: 'o1', status: 'pending' });
    expect(s).toMatchObject({ phase: 'paying', payBusy: false, order: { orderId: 'o1', status: 'pending' } });
    s = applyMessage(s, { type: 'order', orderId: 'o1', status: 'paid' });
    expect(s.phase).toBe('paid');
    expect(isFinished(s)).toBe(true);
    expect(applyLocal(s, { type: 'order_status', orderId: 'o1', status: 'pending' }).phase).toBe('paid');
  });

  it('the socket can beat the checkout answer: paid first, then the 202 does not go back to pending', () => {
    let s = applyLocal(reserved, { type: 'pay_started' });
    s = applyMessage(s, { type: 'order', orderId: 'o1', status: 'paid' });
    expect(s.phase).toBe('paid');
    s = applyLocal(s, { type: 'pay_accepted', orderId: 'o1', status: 'pending' });
    expect(s.phase).toBe('paid');
  });

  it('a declined card with a new hold: back to the pay step on that hold, with the reason', () => {
    let s = applyLocal(applyLocal(reserved, { type: 'pay_started' }), { type: 'pay_accepted', orderId: 'o1', status: 'pending' });
    const retry = { reservationId: '9-2', quantity: 1, expiresAt: hold.expiresAt };
    s = applyMessage(s, { type: 'order', orderId: 'o1', status: 'failed', reason: 'declined', retry });
    expect(s).toMatchObject({ phase: 'reserved', reservation: retry, order: { status: 'failed', reason: 'declined' } });
    expect(isFinished(s)).toBe(false);
    // The next Pay is about the new hold's order.
    s = applyLocal(applyLocal(s, { type: 'pay_started' }), { type: 'pay_accepted', orderId: 'o2', status: 'pending' });
    expect(s).toMatchObject({ phase: 'paying', order: { orderId: 'o2' } });
  });

  it('a failure without a new hold ends the pay step; an order message about another order changes nothing', () => {
    const paying = applyLocal(applyLocal(reserved, { type: 'pay_started' }), { type: 'pay_accepted', orderId: 'o1', status: 'pending' });
    expect(applyMessage(paying, { type: 'order', orderId: 'other', status: 'paid' })).toBe(paying);
    expect(applyMessage(reserved, { type: 'order', orderId: 'other', status: 'paid' })).toBe(reserved);
    const failed = applyMessage(paying, { type: 'order', orderId: 'o1', status: 'failed', reason: 'unknown' });
    expect(failed).toMatchObject({ phase: 'payment_failed', order: { reason: 'unknown' } });
  });

  it('Release, the hold running out, and a checkout refused for an expired hold', () => {
    expect(applyLocal(reserved, { type: 'released' }).phase).toBe('released');
    expect(applyLocal(reserved, { type: 'hold_expired' }).phase).toBe('hold_expired');
    expect(applyLocal(applyLocal(reserved, { type: 'pay_started' }), { type: 'hold_expired' }).phase).toBe('reserved'); // paying: the server decides
    expect(applyLocal(reserved, { type: 'pay_failed', code: 'hold_expired', message: 'the hold has expired' }).phase).toBe('hold_expired');
    expect(applyLocal(reserved, { type: 'pay_failed', code: 'network', message: 'try again' })).toMatchObject({ phase: 'reserved', notice: 'try again' });
  });
});

