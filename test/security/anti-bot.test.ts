import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, makeUsers } from '../sales.js';
import { startTestEngine, type TestEngine } from '../engine.js';

let t: TestEngine;
let n = 0;
beforeAll(async () => {
  t = await startTestEngine();
});
afterAll(() => t?.cleanup());

async function sale(extra: Record<string, unknown>, waitingRoom = false): Promise<string> {
  const admin = t.config.adminApiKey;
  const product = await t.api('POST', '/admin/products', { token: admin, body: { sku: `ab-${++n}`, name: 'Console', priceCents: 50_000, stock: 100 } });
  const now = Date.now();
  const res = await t.api('POST', '/admin/sales', {
    token: admin,
    body: { productId: product.body.id, quantity: 100, priceCents: 40_000, startsAt: new Date(now).toISOString(), endsAt: new Date(now + 3_600_000).toISOString(), perUserLimit: 2, holdSeconds: 300, waitingRoom, ...extra },
  });
  expect(res.status).toBe(201);
  await eventually(async () => (await t.api('GET', `/admin/sales/${res.body.id}`, { token: admin })).body.status === 'open', 'the sale to open');
  return res.body.id;
}
async function ageAccounts(ids: string[], days: number) {
  await t.ctx.db.query(`UPDATE users SET created_at = now() - make_interval(days => $2) WHERE id = ANY($1::bigint[])`, [ids, days]);
}
const reserve = (saleId: string, token: string) => t.api('POST', `/api/sales/${saleId}/reservations`, { token, body: { quantity: 2 } });
const wsStatus = (saleId: string, token: string) =>
  new Promise<number>((resolve) => {
    const ws = new WebSocket(`${t.url.replace('http', 'ws')}/ws/sales/${saleId}?token=${token}`);
    ws.on('open', () => (ws.close(), resolve(101)));
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => resolve(-1));
  });

describe('anti-bot sale options', () => {
  it('accountsCreatedBefore: accounts made for the sale get 403 account_too_new when reserving; older ones reserve', async () => {
    const [old, fresh1, fresh2] = await makeUsers(t.ctx, 3);
    await ageAccounts([old.id], 30);
    const saleId = await sale({ accountsCreatedBefore: new Date(Date.now() - 24 * 3600_000).toISOString() });
    const detail = await t.api('GET', `/admin/sales/${saleId}`, { token: t.config.adminApiKey });
    expect(detail.body.accountsCreatedBefore).toMatch(/Z$/);
    expect((await reserve(saleId, old.token)).status).toBe(201);
    for (const u of [fresh1, fresh2]) {
      const r = await reserve(saleId, u.token);
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('account_too_new');
    }
  });

  it('accountsCreatedBefore: new accounts cannot join the queue, over HTTP or WebSocket', async () => {
    const [old, fresh] = await makeUsers(t.ctx, 2);
    await ageAccounts([old.id], 30);
    const saleId = await sale({ accountsCreatedBefore: new Date(Date.now() - 24 * 3600_000).toISOString() }, true);
    const refused = await t.api('POST', `/api/sales/${saleId}/queue`, { token: fresh.token });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('account_too_new');
    expect(await wsStatus(saleId, fresh.token)).toBe(403);
    expect((await t.api('POST', `/api/sales/${saleId}/queue`, { token: old.token })).status).toBe(202);
    expect(await wsStatus(saleId, old.token)).toBe(101);
  });

  it('maxAdmissionsPerIp: five throwaway accounts from one address hold 2 units each no more; the third shopper is refused', async () => {
    const users = await makeUsers(t.ctx, 5);
    const saleId = await sale({ maxAdmissionsPerIp: 2 });
    const statuses = [];
    for (const u of users) statuses.push((await reserve(saleId, u.token)).status);
    expect(statuses).toEqual([201, 201, 403, 403, 403]);
    const r = await reserve(saleId, users[4].token);
    expect(r.body.error.code).toBe('ip_limit_reached');
    const stats = await t.api('GET', `/admin/sales/${saleId}`, { token: t.config.adminApiKey });
    expect(stats.body.stats.held).toBe(4);
  });

  it('maxAdmissionsPerIp in a waiting-room sale: counted when joining the queue; the same shopper may join again', async () => {
    const users = await makeUsers(t.ctx, 3);
    const saleId = await sale({ maxAdmissionsPerIp: 2 }, true);
    expect((await t.api('POST', `/api/sales/${saleId}/queue`, { token: users[0].token })).status).toBe(202);
    expect((await t.api('POST', `/api/sales/${saleId}/queue`, { token: users[1].token })).status).toBe(202);
    const third = await t.api('POST', `/api/sales/${saleId}/queue`, { token: users[2].token });
    expect(third.status).toBe(403);
    expect(third.body.error.code).toBe('ip_limit_reached');
    expect(await wsStatus(saleId, users[2].token)).toBe(403);
    expect((await t.api('POST', `/api/sales/${saleId}/queue`, { token: users[0].token })).status).toBe(202);
  });
});
