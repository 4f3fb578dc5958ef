import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildParts } from '../../gateway/server.js';
import { authRoutes } from '../../gateway/auth.js';
import { changePassword, loginUser, registerUser, userEmail } from '../../storefront/index.js';
import { makeUsers } from '../sales.js';
import { startTestEngine, type TestEngine } from '../engine.js';
import { rawHttp } from './raw.js';

let t: TestEngine;
let token: string;
beforeAll(async () => {
  t = await startTestEngine({}, false);
  [{ token }] = await makeUsers(t.ctx, 1);
});
afterAll(() => t?.cleanup());

const methodOf = (m: string) => (m === 'del' ? 'DELETE' : m.toUpperCase());

/** Every API route of the engine (the parts' and the auth routes), as the gateway registers them. */
async function apiRoutes() {
  const parts = await buildParts(t.ctx);
  return [...authRoutes(t.ctx, { register: registerUser, login: loginUser, changePassword, email: userEmail }, []), ...parts.flatMap((p) => p.routes ?? [])].filter((r) => r.path.startsWith('/api') || r.path.startsWith('/admin'));
}

describe('NUL and other control characters are a 400 naming the field, on every route', () => {
  it('in a JSON body string (every route that takes a body, admin routes too)', async () => {
    const routes = (await apiRoutes()).filter((r) => r.method !== 'get');
    expect(routes.length).toBeGreaterThan(10);
    for (const r of routes) {
      const path = r.path.replace(/:(\w+)/g, '1');
      for (const [field, value] of [['name', 'Pho\u0000ne'], ['paymentMethod', 'pm_card_ok\u0000'], ['email', 'a\u0001@example.com'], ['description', 'line\u001b[31m']]) {
        for (const auth of [token, t.config.adminApiKey]) {
          const res = await t.api(methodOf(r.method), path, { token: auth, body: { [field]: value }, headers: { 'idempotency-key': 'k1' } });
          expect(res.status, `${r.method} ${r.path} ${field}`).toBe(400);
          expect(res.body.error.code).toBe('invalid_request');
          expect(res.body.error.field).toBe(field);
        }
      }
      const nested = await t.api(methodOf(r.method), path, { token, body: { admission: { note: ['ok', 'b\u0000ad'] } } });
      expect(nested.status).toBe(400);
      expect(nested.body.error.field).toBe('admission.note.1');
    }
  });

  it('in a path parameter (every route that has one)', async () => {
    const routes = (await apiRoutes()).filter((r) => r.path.includes(':'));
    expect(routes.length).toBeGreaterThan(8);
    for (const r of routes) {
      const name = /:(\w+)/.exec(r.path)![1];
      const path = r.path.replace(/:(\w+)/g, '1%00');
      const res = await t.api(methodOf(r.method), path, { token, body: r.method === 'get' ? undefined : {} });
      expect(res.status, `${r.method} ${r.path}`).toBe(400);
      expect(res.body.error.field).toBe(name);
    }
  });

  it('in query strings and headers the routes read', async () => {
    const search = await t.api('GET', '/api/products/search?q=pho%00ne');
    expect(search.status).toBe(400);
    expect(search.body.error.field).toBe('q');
    const orders = await t.api('GET', '/api/orders?cursor=%01', { token });
    expect(orders.status).toBe(400);
    expect(orders.body.error.field).toBe('cursor');
    // fetch will not send a control character in a header: a raw request does. uWS itself never serves a
    // request with a C0 control in a header (no answer); DEL and tab reach the gateway, which answers 400.
    const body = '{"quantity":1}';
    const reserve = (key: string) =>
      rawHttp(t.engine.port, `POST /api/sales/1/reservations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nIdempotency-Key: ${key}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    for (const c of ['\x7f', '\t']) {
      const raw = await reserve(`a${c}b`);
      expect(raw.statuses).toEqual([400]);
      expect(raw.text).toContain('"field":"idempotency-key"');
    }
    for (const c of ['\x00', '\x01', '\x1b']) expect((await reserve(`a${c}b`)).statuses).toEqual([]);
  });

  it('the examples of the report: a product name with NUL, a paymentMethod with NUL (cart checkout), a cursor of the wrong shape', async () => {
    const product = await t.api('POST', '/admin/products', { token: t.config.adminApiKey, body: { sku: 'nul-1', name: 'a\u0000b', priceCents: 100, stock: 1 } });
    expect(product.status).toBe(400);
    expect(product.body.error.field).toBe('name');
    const pay = await t.api('POST', '/api/checkout', { token, body: { paymentMethod: 'pm_card_ok\u0000' }, headers: { 'idempotency-key': 'nul-key' } });
    expect(pay.status).toBe(400);
    expect(pay.body.error.field).toBe('paymentMethod');
    for (const cursor of [
      Buffer.from('{"a":1}').toString('base64url'),
      Buffer.from('2026-01-01T00:00:00Z|not-a-uuid').toString('base64url'),
      Buffer.from('x|y|z').toString('base64url'),
      Buffer.from('99999-99-99|00000000-0000-0000-0000-000000000000').toString('base64url'),
      Buffer.from('\u0000').toString('base64url'),
      '!!!',
    ]) {
      const r = await t.api('GET', `/api/orders?cursor=${encodeURIComponent(cursor)}`, { token });
      expect(r.status, cursor).toBe(400);
      expect(r.body.error.field).toBe('cursor');
    }
  });

  it('tabs and newlines in a multi-line product description are fine', async () => {
    const product = await t.api('POST', '/admin/products', { token: t.config.adminApiKey, body: { sku: 'multi-1', name: 'Lamp', description: 'Warm light.\n\tDimmable.', priceCents: 100, stock: 1 } });
    expect(product.status).toBe(201);
  });
});
