import { describe, expect, it } from 'vitest';
import { AppError } from './errors.js';

describe('AppError', () => {
  it('carries code, status and the wire shape, without capturing a stack', () => {
    const before = Error.stackTraceLimit;
    const err = new AppError('sold_out', 'not enough units left');
    expect(err).toBeInstanceOf(Error);
    expect(err.status).toBe(409);
    expect(err.message).toBe('not enough units left');
    expect(err.toJSON()).toEqual({ error: { code: 'sold_out', message: 'not enough units left' } });
    expect(err.stack?.split('\n')).toHaveLength(1); // "Error: message", no frames
    expect(Error.stackTraceLimit).toBe(before);
    expect(new Error('fault').stack?.split('\n').length).toBeGreaterThan(1);
  });
});
