import { describe, expect, it } from 'vitest';
import { holdRecordText, parseHoldRecord, saleIdOfReservation } from './keys.js';

describe('hold records', () => {
  it('reads what the scripts write, and refuses what they never write', () => {
    const text = '42|2|1796150222590|paying|1796150102590';
    const h = parseHoldRecord(text);
    expect(h).toEqual({ userId: '42', quantity: 2, expiresAt: 1796150222590, status: 'paying', createdAt: 1796150102590 });
    expect(holdRecordText(h!)).toBe(text);
    expect(parseHoldRecord(null)).toBeNull();
    expect(parseHoldRecord(undefined)).toBeNull();
    expect(parseHoldRecord('')).toBeNull();
    expect(parseHoldRecord('42|2|1796150222590|held')).toBeNull();
    expect(parseHoldRecord('42|2|1796150222590|held|1|extra')).toBeNull();
  });

  it('a reservation id names its sale', () => {
    expect(saleIdOfReservation('12-345')).toBe('12');
    expect(saleIdOfReservation('12-345-lz3k9q0a1b')).toBe('12');
    expect(saleIdOfReservation('12-345-LZ')).toBeNull();
    expect(saleIdOfReservation('12-x')).toBeNull();
  });
});
