import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../test/engine.js';
import { issueAdmissionToken } from './index.js';
import { makeSale, makeUsers } from '../test/sales.js';

let t: TestEngine;
beforeAll(async () => {
  t = await startTestEngine();
});
afterAll(async () => {
  await t?.cleanup();
});

describe('waiting-room sales need an admission token', () => {
  it('refuses a missing, forged, expired, replayed, another user\'s or another sale\'s token with 403 not_admitted', async () => {
    const [ann, bob] = await makeUsers(t.ctx, 2);
    const { saleId } = await makeSale(t, { quantity: 10, perUserLimit: 5, waitingRoom: true });
    const other = await makeSale(t, { quantity: 10, waitingRoom: true });
    const secret = t.config.tokenSecret;
    const reserve = (token: string, admission?: string, key?: string) =>
      t.api('POST', `/api/sales/${saleId}/reservations`, {
        token,
        body: { quantity: 1 },
        headers: { ...(admission ? { 'admission-token': admission } : {}), ...(key ? { 'idempotency-key': key } : {}) },
      });
    const expectRefused = async (p: Promise<{ status: number; body: any }>) => {
      const r = await p;
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('not_admitted');
    };
    await expectRefused(reserve(ann.token));
    const good = issueAdmissionToken(secret, ann.id, saleId, 120).token;
    await expectRefused(reserve(ann.token, good.slice(0, -3) + 'AAA'));
    await expectRefused(reserve(ann.token, issueAdmissionToken('another-secret', ann.id, saleId, 120).token));
    await expectRefused(reserve(ann.token, issueAdmissionToken(secret, ann.id, saleId, 120, Date.now() - 200_000).token));
    await expectRefused(reserve(bob.token, good));
    await expectRefused(reserve(ann.token, issueAdmissionToken(secret, ann.id, other.saleId, 120).token));

    const first = await reserve(ann.token, good, 'k1');
    expect(first.status).toBe(201);
    // A retry of the same request (same Idempotency-Key) is the same reservation, not a replay.
    const retry = await reserve(ann.token, good, 'k1');
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    await expectRefused(reserve(ann.token, good, 'k2'));
    await expectRefused(reserve(ann.token, good));
    expect((await t.api('GET', `/api/sales/${saleId}`)).body.remaining).toBe(9);
  });
});
