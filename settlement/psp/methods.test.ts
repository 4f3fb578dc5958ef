import { describe, expect, it } from 'vitest';
import { behaviourOf, parseFailureRate, parseLatency } from './methods.js';

describe('simulator settings', () => {
  it('PSP_LATENCY_MS takes a fixed ms or a min-max range, and refuses anything else', () => {
    expect(parseLatency(undefined)).toBe(0);
    expect(parseLatency('50')).toBe(50);
    expect(parseLatency('20-80')).toEqual([20, 80]);
    expect(parseLatency(' 5 - 5 ')).toBe(5);
    expect(() => parseLatency('80-20')).toThrow(/max < min/);
    expect(() => parseLatency('fast')).toThrow();
    expect(() => parseLatency(-1)).toThrow();
  });

  it('PSP_FAILURE_RATE is a share between 0 and 1', () => {
    expect(parseFailureRate('0.25')).toBe(0.25);
    expect(parseFailureRate(undefined)).toBe(0);
    expect(() => parseFailureRate('1.5')).toThrow();
    expect(() => parseFailureRate('x')).toThrow();
  });

  it('pm_card_flaky fails the first attempt the same way every time for a given key, and both ways occur', () => {
    const ways = new Set<string | undefined>();
    for (let i = 0; i < 50; i++) {
      const a = behaviourOf('pm_card_flaky', `key-${i}`);
      expect(behaviourOf('pm_card_flaky', `key-${i}`)).toEqual(a);
      ways.add(a?.flaky);
    }
    expect(ways).toEqual(new Set(['error', 'drop']));
    expect(behaviourOf('pm_card_unknown', 'k')).toBeUndefined();
  });
});
