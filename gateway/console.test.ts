import { describe, expect, it } from 'vitest';
import { derive } from './console.js';

describe('console samples', () => {
  it('rates from the previous sample, the integrity line, drift and oversell', () => {
    const a = derive({ t: 0, status: 'open', quantity: 10, remaining: 10, held: 0, sold: 0, paidUnits: 0, reservations: 0, paidOrders: 0, failedOrders: 0, declines: 0 }, undefined);
    expect(a).toMatchObject({ integrity: { quantity: 10, sum: 10, ok: true }, drift: 0, oversell: 0, reservationsPerSecond: 0 });
    const b = derive({ t: 2000, status: 'open', quantity: 10, remaining: 4, held: 2, sold: 4, paidUnits: 3, reservations: 8, paidOrders: 3, failedOrders: 1, declines: 1 }, a);
    expect(b).toMatchObject({ integrity: { sum: 10, ok: true }, drift: 1, oversell: 0, reservationsPerSecond: 4, paidPerSecond: 1.5, failedPerSecond: 0.5 });
    const c = derive({ t: 3000, status: 'open', quantity: 10, remaining: 0, held: 0, sold: 11, paidUnits: 11 }, b);
    expect(c).toMatchObject({ integrity: { sum: 11, ok: false }, oversell: 1 });
  });
});
