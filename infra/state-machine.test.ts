import { describe, expect, it } from 'vitest';
import { AppError } from './errors.js';
import { sqlIn, StateMachine } from './state-machine.js';

type Light = 'red' | 'green' | 'amber' | 'off';
const light = new StateMachine<Light>('light', { red: ['green', 'off'], green: ['amber', 'off'], amber: ['red', 'off'], off: [] });

describe('StateMachine', () => {
  it('can and assert follow the table; assert throws invalid_state (409) naming both states', () => {
    expect(light.can('red', 'green')).toBe(true);
    expect(light.can('green', 'red')).toBe(false);
    expect(light.can('off', 'red')).toBe(false);
    expect(() => light.assert('red', 'green')).not.toThrow();
    const err = (() => {
      try {
        light.assert('green', 'red');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'invalid_state', message: 'a green light cannot become red' });
  });

  it('from lists the statuses that may move to a status; finals, live and andAfter read the table', () => {
    expect(light.from('off')).toEqual(['red', 'green', 'amber']);
    expect(light.from('red')).toEqual(['amber']);
    expect(light.finals).toEqual(['off']);
    expect(light.live).toEqual(['red', 'green', 'amber']);
    expect(light.isFinal('off')).toBe(true);
    expect(light.isFinal('red')).toBe(false);
    expect(light.andAfter('amber').sort()).toEqual(['amber', 'green', 'off', 'red']);
  });

  it('is() accepts only the states of the table (not inherited object keys)', () => {
    expect(light.is('red')).toBe(true);
    expect(light.is('blue')).toBe(false);
    expect(light.is('toString')).toBe(false);
    expect(light.is(null)).toBe(false);
  });

  it('a table naming a state it does not define is refused at start-up', () => {
    expect(() => new StateMachine<'a' | 'b'>('x', { a: ['b'], b: ['c' as 'a'] })).toThrow(/c is not a state/);
  });

  it('sqlIn writes an IN list of statuses and refuses anything that is not one', () => {
    expect(sqlIn(light.from('off'))).toBe("('red', 'green', 'amber')");
    expect(() => sqlIn(["x'); DROP TABLE sales; --"])).toThrow(/not a status/);
  });
});
