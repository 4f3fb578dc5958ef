import { describe, expect, it } from 'vitest';
import { osaDistance, withinTypos } from './terms.js';

describe('typo distance', () => {
  it('counts a swapped adjacent pair as one edit', () => {
    expect(osaDistance('phnoe', 'phone')).toBe(1);
    expect(osaDistance('phone', 'phone')).toBe(0);
    expect(osaDistance('', 'abc')).toBe(3);
    expect(osaDistance('kitten', 'sitting')).toBe(3);
  });

  it('accepts one edit from 5 letters, two from 8, and matches the start of a longer word', () => {
    expect(withinTypos('phnoe', 'phones')).toBe(true); // start of "phones"
    expect(withinTypos('lpatop', 'laptops')).toBe(true);
    expect(withinTypos('pone', 'phone')).toBe(false); // 4 letters: no guessing
    expect(withinTypos('power', 'poker')).toBe(true);
    expect(withinTypos('power', 'pixel')).toBe(false);
    expect(withinTypos('headpohnse', 'headphones')).toBe(true);
  });
});
