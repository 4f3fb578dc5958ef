import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../engine.js';

let t: TestEngine;
beforeAll(async () => {
  t = await startTestEngine({}, false);
});
afterAll(() => t?.cleanup());

const PASSWORD = 'a long enough pass';
const register = (email: string, password = PASSWORD) => t.api('POST', '/api/auth/register', { body: { email, password } });
const login = (email: string, password: string) => t.api('POST', '/api/auth/login', { body: { email, password } });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

describe('sign-in throttling', () => {
  it('50 wrong passwords from one IP for one account: 401 for the first 10, then 429 with Retry-After; the right password is refused too while blocked', async () => {
    expect((await register('target@example.com')).status).toBe(201);
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 50; i++) {
      const r = await login('target@example.com', `wrong guess ${i}`);
      statuses.push(r.status);
      if (r.status === 429) {
        retryAfter = r.headers.get('retry-after');
        expect(r.body.error.code).toBe('too_many_requests');
      }
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual(Array(40).fill(429));
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect(Number(retryAfter)).toBeLessThanOrEqual(15 * 60);
    expect((await login('target@example.com', PASSWORD)).status).toBe(429);
  });

  it('50 wrong passwords from one IP across many accounts: 429 once the address has used its 50', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 55; i++) statuses.push((await login(`nobody${i}@example.com`, 'some wrong guess')).status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(50);
    expect(statuses.slice(-5)).toEqual(Array(5).fill(429));
  });

  it('an unknown email takes as long as a known one (medians of 30 alternated tries, ratio within 0.6-1.6)', async () => {
    const w = await startTestEngine({}, false);
    try {
      expect((await w.api('POST', '/api/auth/register', { body: { email: 'known@example.com', password: PASSWORD } })).status).toBe(201);
      const time = async (email: string) => {
        const start = process.hrtime.bigint();
        const r = await w.api('POST', '/api/auth/login', { body: { email, password: 'a wrong password' } });
        expect(r.status).toBe(401);
        await w.ctx.redis.del(...(await w.ctx.redis.keys(`${w.config.redisPrefix}rl:*`)));
        return Number(process.hrtime.bigint() - start) / 1e6;
      };
      await time('known@example.com'); // warm up (the dummy hash is made on first use)
      await time('unknown@example.com');
      const known: number[] = [];
      const unknown: number[] = [];
      for (let i = 0; i < 30; i++) {
        known.push(await time('known@example.com'));
        unknown.push(await time(`unknown${i}@example.com`));
      }
      const ratio = median(unknown) / median(known);
      console.log(`login timing: unknown ${median(unknown).toFixed(1)} ms, known ${median(known).toFixed(1)} ms, ratio ${ratio.toFixed(2)}`);
      expect(ratio, `unknown ${median(unknown).toFixed(1)} ms / known ${median(known).toFixed(1)} ms`).toBeGreaterThan(0.6);
      expect(ratio).toBeLessThan(1.6);
    } finally {
      await w.cleanup();
    }
  });
});

describe('passwords and sign-up', () => {
  it('common and trivial passwords are refused with 400 weak_password naming the field', async () => {
    for (const password of ['12345678', '        ', 'password1', 'qwertyuiop', 'aaaaaaaa', 'abcdefgh', 'iloveyou', 'weakling@example.com']) {
      const r = await register('weakling@example.com', password);
      expect(r.status, password).toBe(400);
      expect(r.body.error.code, password).toBe('weak_password');
      expect(r.body.error.field).toBe('password');
    }
    expect((await register('weakling@example.com', 'a sturdier passphrase')).status).toBe(201);
  });

  it('sign-up is limited per address: 429 with Retry-After past the hourly count', async () => {
    const w = await startTestEngine({ registerPerIpPerHour: 5 }, false);
    try {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 8; i++) {
        const r = await w.api('POST', '/api/auth/register', { body: { email: `bot${i}@example.com`, password: PASSWORD } });
        statuses.push(r.status);
        if (r.status === 429) retryAfter = r.headers.get('retry-after');
      }
      expect(statuses).toEqual([201, 201, 201, 201, 201, 429, 429, 429]);
      expect(Number(retryAfter)).toBeGreaterThan(0);
    } finally {
      await w.cleanup();
    }
  });
});
