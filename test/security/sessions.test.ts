import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../engine.js';

let t: TestEngine;
let n = 0;
beforeAll(async () => {
  t = await startTestEngine({}, false);
});
afterAll(() => t?.cleanup());

const PASSWORD = 'a long enough pass';
async function signUp() {
  const email = `s${++n}@example.com`;
  const res = await t.api('POST', '/api/auth/register', { body: { email, password: PASSWORD } });
  expect(res.status).toBe(201);
  return { email, userId: res.body.userId as string, token: res.body.token as string };
}
const login = async (email: string, password = PASSWORD) => {
  const res = await t.api('POST', '/api/auth/login', { body: { email, password } });
  expect(res.status).toBe(200);
  return res.body.token as string;
};
const orders = (token: string) => t.api('GET', '/api/orders', { token }).then((r) => r.status);

describe('sessions', () => {
  it('logout, then reuse of the token: 401 (other tokens of the user still work)', async () => {
    const u = await signUp();
    const other = await login(u.email);
    expect(await orders(u.token)).toBe(200);
    expect((await t.api('POST', '/api/auth/logout', { token: u.token })).status).toBe(204);
    expect(await orders(u.token)).toBe(401);
    expect((await t.api('POST', '/api/auth/logout', { token: u.token })).status).toBe(401);
    expect(await orders(other)).toBe(200);
  });

  it('logout-all voids every token of the user, and only theirs; a new sign-in works', async () => {
    const u = await signUp();
    const v = await signUp();
    const second = await login(u.email);
    expect((await t.api('POST', '/api/auth/logout-all', { token: second })).status).toBe(204);
    expect(await orders(u.token)).toBe(401);
    expect(await orders(second)).toBe(401);
    expect(await orders(v.token)).toBe(200);
    expect(await orders(await login(u.email))).toBe(200);
  });

  it('password change checks the current password, refuses a weak new one, and signs out the other tokens', async () => {
    const u = await signUp();
    const other = await login(u.email);
    const wrong = await t.api('POST', '/api/auth/password', { token: u.token, body: { currentPassword: 'not it at all', newPassword: 'a brand new secret' } });
    expect(wrong.status).toBe(401);
    const weak = await t.api('POST', '/api/auth/password', { token: u.token, body: { currentPassword: PASSWORD, newPassword: '12345678' } });
    expect(weak.status).toBe(400);
    expect(weak.body.error.code).toBe('weak_password');
    const ok = await t.api('POST', '/api/auth/password', { token: u.token, body: { currentPassword: PASSWORD, newPassword: 'a brand new secret' } });
    expect(ok.status).toBe(204);
    expect(await orders(u.token)).toBe(200); // the token that changed it stays
    expect(await orders(other)).toBe(401);
    expect((await t.api('POST', '/api/auth/login', { body: { email: u.email, password: PASSWORD } })).status).toBe(401);
    expect(await orders(await login(u.email, 'a brand new secret'))).toBe(200);
  });

  it('a revocation reaches another process through Redis (a second context loads and follows it)', async () => {
    const u = await signUp();
    const { createContext } = await import('../../infra/context.js');
    const { userFromToken } = await import('../../infra/auth.js');
    const other = createContext(t.config);
    const stop = await other.sessions.start();
    try {
      expect(userFromToken(other, u.token)).toBe(u.userId);
      expect((await t.api('POST', '/api/auth/logout', { token: u.token })).status).toBe(204);
      const deadline = Date.now() + 5000;
      while (userFromToken(other, u.token) !== null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(userFromToken(other, u.token)).toBeNull();
      // A process started later loads it from Redis.
      const late = createContext(t.config);
      const stopLate = await late.sessions.start();
      expect(userFromToken(late, u.token)).toBeNull();
      await stopLate();
      await late.close();
    } finally {
      await stop();
      await other.close();
    }
  });
});
