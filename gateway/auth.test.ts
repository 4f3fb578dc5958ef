import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../test/engine.js';

let t: TestEngine;
beforeAll(async () => {
  t = await startTestEngine();
});
afterAll(async () => {
  await t?.cleanup();
});

describe('auth', () => {
  it('registers, logs in, and refuses a duplicate email or a wrong password', async () => {
    const reg = await t.api('POST', '/api/auth/register', { body: { email: 'Ann@example.com', password: 'correct horse' } });
    expect(reg.status).toBe(201);
    expect(reg.body.userId).toBeTruthy();
    expect(typeof reg.body.token).toBe('string');
    const dup = await t.api('POST', '/api/auth/register', { body: { email: 'ann@example.com', password: 'another one' } });
    expect(dup.status).toBe(409);
    const login = await t.api('POST', '/api/auth/login', { body: { email: 'ann@example.com', password: 'correct horse' } });
    expect(login.status).toBe(200);
    expect(login.body.userId).toBe(reg.body.userId);
    const wrong = await t.api('POST', '/api/auth/login', { body: { email: 'ann@example.com', password: 'wrong horse' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('unauthorized');
  });

  it('answers malformed JSON, wrong types and a 1 MB body with 4xx JSON, and keeps serving', async () => {
    const bad = await t.api('POST', '/api/auth/register', { body: '{"email":' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
    const types = await t.api('POST', '/api/auth/register', { body: { email: 5, password: true } });
    expect(types.status).toBe(400);
    expect(types.body.error.message).toMatch(/email/);
    const big = await t.api('POST', '/api/auth/register', { body: 'x'.repeat(1024 * 1024) });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('payload_too_large');
    const health = await t.api('GET', '/healthz');
    expect(health.status).toBe(200);
    const nothing = await t.api('GET', '/api/nope');
    expect(nothing.status).toBe(404);
  });
});
