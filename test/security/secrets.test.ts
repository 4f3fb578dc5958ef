import { mkdtempSync, readFileSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../infra/config.js';
import { signToken, verifyToken } from '../../infra/tokens.js';
import { issueAdmissionToken } from '../../reservation/index.js';
import { makeSale, makeUsers } from '../sales.js';
import { startTestEngine, type TestEngine } from '../engine.js';

const OLD_DEFAULT = 'dev-only-token-secret-change-me';
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

describe('token secret', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fs-secret-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('outside production, with TOKEN_SECRET unset, a random secret is made once in the data dir (mode 0600) and kept', () => {
    const first = loadConfig({ NODE_ENV: 'development', DATA_DIR: dir });
    expect(first.tokenSecretSource).toBe('created');
    expect(first.tokenSecret).not.toBe(OLD_DEFAULT);
    expect(first.tokenSecret.length).toBeGreaterThanOrEqual(40);
    const file = join(dir, 'token-secret');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.tokenSecret);
    const again = loadConfig({ NODE_ENV: 'development', DATA_DIR: dir });
    expect(again.tokenSecretSource).toBe('file');
    expect(again.tokenSecret).toBe(first.tokenSecret);
    const other = loadConfig({ NODE_ENV: 'development', DATA_DIR: mkdtempSync(join(tmpdir(), 'fs-secret-')) });
    expect(other.tokenSecret).not.toBe(first.tokenSecret);
  });

  it('production refuses to start without TOKEN_SECRET; TOKEN_SECRET wins when set', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', ADMIN_API_KEY: 'k', DATA_DIR: dir })).toThrow(/TOKEN_SECRET/);
    const c = loadConfig({ NODE_ENV: 'production', ADMIN_API_KEY: 'k', TOKEN_SECRET: 'x'.repeat(40), DATA_DIR: dir });
    expect(c.tokenSecret).toBe('x'.repeat(40));
    expect(c.tokenSecretSource).toBe('env');
  });

  it('a signature is accepted in its canonical base64url spelling only', () => {
    const secret = 's'.repeat(40);
    const token = signToken({ k: 'usr', sub: '1', exp: inAnHour() }, secret);
    expect(verifyToken(token, secret, 'usr')).not.toBeNull();
    const [body, sig] = token.split('.');
    const std = Buffer.from(sig, 'base64url').toString('base64'); // `+/` alphabet and `=` padding
    const variants = [`${token}=`, `${token}==`, `${body}.${std}`, `${body}.${std.replace(/=+$/, '')}`, `${token} `];
    // The last character of 32 bytes in base64 carries 2 spare bits: a different character decodes the same.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(sig[sig.length - 1]);
    variants.push(`${body}.${sig.slice(0, -1)}${alphabet[(last & ~3) | ((last + 1) & 3)]}`);
    for (const v of variants) if (v !== token) expect(verifyToken(v, secret, 'usr'), v).toBeNull();
  });
});

describe('forging with the old default secret', () => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await startTestEngine();
  });
  afterAll(() => t.cleanup());

  it('a user token signed with the old default secret is refused', async () => {
    const reg = await t.api('POST', '/api/auth/register', { body: { email: 'victim@example.com', password: 'a long secret pass' } });
    expect(reg.status).toBe(201);
    expect(t.config.tokenSecret).not.toBe(OLD_DEFAULT);
    const forged = signToken({ k: 'usr', sub: reg.body.userId, exp: inAnHour() }, OLD_DEFAULT);
    const res = await t.api('GET', '/api/orders', { token: forged });
    expect(res.status).toBe(401);
    expect((await t.api('GET', '/api/orders', { token: reg.body.token })).status).toBe(200);
  });

  it('an admission token signed with the old default secret does not let a shopper reserve', async () => {
    const { saleId } = await makeSale(t, { quantity: 5, perUserLimit: 1, waitingRoom: true });
    const [bot] = await makeUsers(t.ctx, 1);
    const forged = issueAdmissionToken(OLD_DEFAULT, bot.id, saleId, 300).token;
    const res = await t.api('POST', `/api/sales/${saleId}/reservations`, { token: bot.token, headers: { 'admission-token': forged }, body: { quantity: 1 } });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('not_admitted');
    const real = issueAdmissionToken(t.config.tokenSecret, bot.id, saleId, 300).token;
    expect((await t.api('POST', `/api/sales/${saleId}/reservations`, { token: bot.token, headers: { 'admission-token': real }, body: { quantity: 1 } })).status).toBe(201);
  });
});
