import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../infra/tokens.js';
import { startTestEngine, type TestEngine } from '../test/engine.js';
import { makeSale, makeUsers } from '../test/sales.js';

let t: TestEngine;
let saleId: string;
let token: string;
beforeAll(async () => {
  t = await startTestEngine();
  ({ saleId } = await makeSale(t, { quantity: 10, perUserLimit: 2 }));
  token = (await makeUsers(t.ctx, 1))[0].token;
});
afterAll(async () => {
  await t?.cleanup();
});

async function expectError(p: Promise<{ status: number; body: any }>, status: number, code: string, field?: string) {
  const r = await p;
  expect({ status: r.status, code: r.body?.error?.code }).toEqual({ status, code });
  expect(typeof r.body.error.message).toBe('string');
  if (field) expect(r.body.error.field).toBe(field);
}

describe('bad input gets its 4xx and the server keeps serving', () => {
  it('reservation bodies: malformed JSON, wrong types, quantity 0, -1, 1e9, 1.5, above the per-user limit, 1 MB', async () => {
    const path = `/api/sales/${saleId}/reservations`;
    await expectError(t.api('POST', path, { token, body: '{"quantity":' }), 400, 'invalid_request');
    await expectError(t.api('POST', path, { token, body: '' }), 400, 'invalid_request');
    await expectError(t.api('POST', path, { token, body: '[1,2]' }), 400, 'invalid_request');
    await expectError(t.api('POST', path, { token, body: { quantity: '1' } }), 400, 'invalid_request', 'quantity');
    await expectError(t.api('POST', path, { token, body: { quantity: null } }), 400, 'invalid_request', 'quantity');
    for (const quantity of [0, -1, 1e9, 1.5, 3]) {
      await expectError(t.api('POST', path, { token, body: { quantity } }), 400, 'invalid_request', 'quantity');
    }
    await expectError(t.api('POST', path, { token, body: JSON.stringify({ quantity: 1, pad: 'x'.repeat(1024 * 1024) }) }), 413, 'payload_too_large');
    await expectError(t.api('POST', path, { token, body: { quantity: 1 }, headers: { 'idempotency-key': 'x'.repeat(500) } }), 400, 'invalid_request', 'Idempotency-Key');
    expect((await t.api('GET', `/api/sales/${saleId}`)).body.remaining).toBe(10);
  });

  it('unknown sales and reservations are 404, whatever the id looks like', async () => {
    for (const id of ['424242', 'abc', '0', '-1', '1e3', '99999999999999999999999']) {
      await expectError(t.api('GET', `/api/sales/${id}`), 404, 'not_found');
      await expectError(t.api('POST', `/api/sales/${id}/reservations`, { token, body: { quantity: 1 } }), 404, 'not_found');
      await expectError(t.api('GET', `/admin/sales/${id}`, { token: t.config.adminApiKey }), 404, 'not_found');
      await expectError(t.api('POST', `/admin/sales/${id}/close`, { token: t.config.adminApiKey }), 404, 'not_found');
    }
    await expectError(t.api('DELETE', '/api/reservations/42-1', { token }), 404, 'not_found');
  });

  it('missing, forged, expired or wrong-kind user tokens are 401', async () => {
    const path = `/api/sales/${saleId}/reservations`;
    const forged = signToken({ k: 'usr', sub: '1', exp: Math.floor(Date.now() / 1000) + 3600 }, 'not-the-secret');
    const expired = signToken({ k: 'usr', sub: '1', exp: Math.floor(Date.now() / 1000) - 1 }, t.config.tokenSecret);
    const wrongKind = signToken({ k: 'adm', sub: '1', exp: Math.floor(Date.now() / 1000) + 60 }, t.config.tokenSecret);
    for (const bad of [undefined, 'garbage', forged, expired, wrongKind, t.config.adminApiKey]) {
      await expectError(t.api('POST', path, { token: bad, body: { quantity: 1 } }), 401, 'unauthorized');
      await expectError(t.api('DELETE', `/api/reservations/${saleId}-1`, { token: bad }), 401, 'unauthorized');
    }
    await expectError(t.api('POST', path, { body: { quantity: 1 }, headers: { authorization: 'Basic abc' } }), 401, 'unauthorized');
  });

  it('admin bodies: wrong key, wrong types and impossible values', async () => {
    const admin = t.config.adminApiKey;
    await expectError(t.api('POST', '/admin/products', { token: 'wrong', body: {} }), 401, 'unauthorized');
    await expectError(t.api('POST', '/admin/products', { token: admin, body: '{' }), 400, 'invalid_request');
    await expectError(t.api('POST', '/admin/products', { token: admin, body: { sku: 'a', name: 'b', priceCents: 1.5, stock: 1 } }), 400, 'invalid_request', 'priceCents');
    await expectError(t.api('POST', '/admin/products', { token: admin, body: { sku: 'a', name: 'b', priceCents: 1, stock: -1 } }), 400, 'invalid_request', 'stock');
    const sale = { productId: '1', quantity: 1, priceCents: 1, perUserLimit: 1, holdSeconds: 60, startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 60_000).toISOString() };
    await expectError(t.api('POST', '/admin/sales', { token: admin, body: { ...sale, startsAt: 'tomorrow' } }), 400, 'invalid_request', 'startsAt');
    await expectError(t.api('POST', '/admin/sales', { token: admin, body: { ...sale, quantity: 0 } }), 400, 'invalid_request', 'quantity');
    await expectError(t.api('POST', '/admin/sales', { token: admin, body: { ...sale, productId: 'x' } }), 400, 'invalid_request', 'productId');
    await expectError(t.api('POST', '/admin/sales', { token: admin, body: { ...sale, waitingRoom: 'yes' } }), 400, 'invalid_request', 'waitingRoom');
    await expectError(t.api('POST', '/admin/sales', { token: admin, body: { ...sale, admission: { batchSize: -5 } } }), 400, 'invalid_request', 'admission.batchSize');
    await expectError(t.api('POST', '/admin/sales', { token: admin, body: 'x'.repeat(1024 * 1024) }), 413, 'payload_too_large');
    expect((await t.api('GET', '/healthz')).status).toBe(200);
    const still = await t.api('POST', `/api/sales/${saleId}/reservations`, { token, body: { quantity: 1 } });
    expect(still.status).toBe(201);
  });
});
