import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../test/engine.js';
import { makeUsers } from '../test/sales.js';
import { signToken } from '../infra/tokens.js';
import { issueAdmissionToken } from '../reservation/index.js';
import { makeQueueSale, QueueClient } from '../test/waiting-room.js';

let t: TestEngine;
beforeAll(async () => {
  t = await startTestEngine({ maxConnectionsPerIp: 10_000 });
});
afterAll(async () => {
  await t?.cleanup();
});

const reserve = (saleId: string, token: string, admissionToken?: string, idem?: string) =>
  t.api('POST', `/api/sales/${saleId}/reservations`, {
    token,
    body: { quantity: 1 },
    headers: { ...(admissionToken ? { 'admission-token': admissionToken } : {}), ...(idem ? { 'idempotency-key': idem } : {}) },
  });

async function admittedToken(saleId: string, token: string): Promise<string> {
  const c = await QueueClient.connect(t.url, saleId, token);
  const m = await c.waitType('admitted');
  c.close();
  return m.admissionToken as string;
}

describe('admission tokens at reservation', () => {
  it('forged, expired, replayed, another user\'s and another sale\'s admission tokens are refused with 403 not_admitted; the real one works once', async () => {
    const saleA = await makeQueueSale(t.api, t.config.adminApiKey, { quantity: 50, perUserLimit: 2 });
    const saleB = await makeQueueSale(t.api, t.config.adminApiKey, { quantity: 50, perUserLimit: 2 });
    const [alice, bob] = await makeUsers(t.ctx, 2);
    const real = await admittedToken(saleA, alice.token);
    const forAliceOnB = await admittedToken(saleB, alice.token);
    const secret = t.config.tokenSecret;
    const [body] = real.split('.');
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString());

    const refusals: Record<string, string | undefined> = {
      missing: undefined,
      garbage: 'not-a-token',
      'forged (signed with another secret)': issueAdmissionToken('not-the-secret', alice.id, saleA, 60).token,
      'forged (payload changed, signature kept)': `${Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 3600 })).toString('base64url')}.${real.split('.')[1]}`,
      'a user token, not an admission token': alice.token,
      'a token of another kind with the same claims': signToken({ ...claims, k: 'usr' }, secret),
      expired: issueAdmissionToken(secret, alice.id, saleA, 60, Date.now() - 120_000).token,
      "another sale's": forAliceOnB,
    };
    for (const [what, token] of Object.entries(refusals)) {
      const r = await reserve(saleA, alice.token, token);
      expect({ what, status: r.status, code: r.body?.error?.code }).toEqual({ what, status: 403, code: 'not_admitted' });
    }
    const stolen = await reserve(saleA, bob.token, real); // another user's
    expect(stolen).toMatchObject({ status: 403, body: { error: { code: 'not_admitted' } } });

    const ok = await reserve(saleA, alice.token, real);
    expect(ok.status).toBe(201);
    const replay = await reserve(saleA, alice.token, real); // a new request with the spent token
    expect(replay).toMatchObject({ status: 403, body: { error: { code: 'not_admitted' } } });
    const replayOtherKey = await reserve(saleA, alice.token, real, 'another-key');
    expect(replayOtherKey).toMatchObject({ status: 403, body: { error: { code: 'not_admitted' } } });
    expect((await t.api('GET', `/admin/sales/${saleA}`, { token: t.config.adminApiKey })).body.stats).toMatchObject({ remaining: 49, held: 1 });
  });
});
