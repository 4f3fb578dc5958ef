import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeKey } from '../infra/openapi.js';
import { eventually, makeSale, makeUsers } from './sales.js';
import { apiClient, startTestEngine, type TestEngine } from './engine.js';
import { startPsp, type PspProcess } from './psp.js';

/**
 * The contract test: every route in GET /openapi.json is called on success and on error, and each real
 * answer's status must be documented for the route and its body must validate (ajv, JSON Schema 2020-12)
 * against the schema the document gives for that status.
 */
let t: TestEngine;
let psp: PspProcess;
let doc: any;

beforeAll(async () => {
  psp = await startPsp();
  t = await startTestEngine({ pspUrl: psp.url });
  const r = await fetch(`${t.url}/openapi.json`);
  doc = await r.json();
});
afterAll(async () => {
  await t?.cleanup();
  await psp?.cleanup();
});

type Call = { method: string; path: string; token?: string; body?: unknown; headers?: Record<string, string> };
type Checked = Map<string, Set<'ok' | 'error'>>;

/** The documented operation for a concrete call (its template path, e.g. /api/sales/{id}). */
function operationOf(spec: any, method: string, path: string): { key: string; op: any } {
  const bare = path.split('?')[0];
  for (const [template, ops] of Object.entries<any>(spec.paths)) {
    const re = new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`);
    if (re.test(bare) && ops[method.toLowerCase()]) return { key: `${method} ${template}`, op: ops[method.toLowerCase()] };
  }
  throw new Error(`${method} ${bare} is not in the OpenAPI document`);
}

/**
 * A caller that checks each answer against `spec`: the status must be listed for the route, a JSON body must
 * validate against that status's schema; `kind` says which side (success or error) this call covers.
 */
function contractCaller(baseUrl: string, spec: any, checked: Checked) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  ajv.addSchema({ $id: 'openapi', components: spec.components });
  const api = apiClient(baseUrl);
  return async (kind: 'ok' | 'error', c: Call) => {
    const { key, op } = operationOf(spec, c.method, c.path);
    const r = await api(c.method, c.path, { token: c.token, body: c.body, headers: c.headers });
    const documented = op.responses[String(r.status)];
    expect(documented, `${key} answered ${r.status} ${JSON.stringify(r.body)}, which the document does not list`).toBeDefined();
    const json = documented.content?.['application/json'];
    if (json) {
      const validate = ajv.compile(JSON.parse(JSON.stringify(json.schema).replaceAll('"#/components/', '"openapi#/components/')));
      expect(validate(r.body), `${key} ${r.status}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(r.body)}`).toBe(true);
    } else if (documented.content) {
      expect(r.headers.get('content-type')).toBe(Object.keys(documented.content)[0]);
    }
    expect(r.status >= 400, `${key}: expected ${kind === 'ok' ? 'a success' : 'an error'}, got ${r.status} ${JSON.stringify(r.body)}`).toBe(kind === 'error');
    (checked.get(key) ?? checked.set(key, new Set()).get(key)!).add(kind);
    return r;
  };
}

/** Every documented operation was called on success, and on error unless it documents no client error. */
function expectAllCovered(spec: any, checked: Checked) {
  for (const [template, ops] of Object.entries<any>(spec.paths)) {
    for (const [method, op] of Object.entries<any>(ops)) {
      const key = `${method.toUpperCase()} ${template}`;
      const clientErrors = Object.keys(op.responses).some((s) => Number(s) >= 400 && Number(s) < 500);
      expect([...(checked.get(key) ?? [])].sort(), key).toEqual(clientErrors ? ['error', 'ok'] : ['ok']);
    }
  }
}

describe('the OpenAPI contract', () => {
  it('GET /openapi.json is an OpenAPI 3.1 document with security schemes and the one error shape', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['adminKey', 'metricsToken', 'userToken']);
    expect(doc.components.schemas.Error.properties.error.required).toEqual(['code', 'message']);
    for (const ops of Object.values<any>(doc.paths)) {
      for (const op of Object.values<any>(ops)) {
        expect(op.responses['500']).toBeDefined();
        for (const [status, r] of Object.entries<any>(op.responses)) {
          if (Number(status) >= 400) expect(JSON.stringify(r.content['application/json'].schema)).toContain('#/components/schemas/Error');
        }
      }
    }
  });

  it('every documented route answers as documented, on success and on error', async () => {
    const checked: Checked = new Map();
    const call = contractCaller(t.url, doc, checked);
    const admin = t.config.adminApiKey;
    const [user, other] = await makeUsers(t.ctx, 2);
    const email = `c-${Date.now()}@example.com`;

    // auth, operations
    await call('ok', { method: 'POST', path: '/api/auth/register', body: { email, password: 'correct horse battery staple' } });
    await call('error', { method: 'POST', path: '/api/auth/register', body: { email: 'not-an-email', password: 'x' } });
    await call('ok', { method: 'POST', path: '/api/auth/login', body: { email, password: 'correct horse battery staple' } });
    await call('error', { method: 'POST', path: '/api/auth/login', body: { email, password: 'wrong horse battery staple' } });
    const session = await call('ok', { method: 'POST', path: '/api/auth/login', body: { email, password: 'correct horse battery staple' } });
    await call('ok', { method: 'POST', path: '/api/auth/password', token: session.body.token, body: { currentPassword: 'correct horse battery staple', newPassword: 'a quite different phrase' } });
    await call('error', { method: 'POST', path: '/api/auth/password', token: session.body.token, body: { currentPassword: 'not the password at all', newPassword: 'another different phrase' } });
    await call('ok', { method: 'POST', path: '/api/auth/logout', token: session.body.token });
    await call('error', { method: 'POST', path: '/api/auth/logout', token: session.body.token });
    const again = await call('ok', { method: 'POST', path: '/api/auth/login', body: { email, password: 'a quite different phrase' } });
    await call('ok', { method: 'POST', path: '/api/auth/logout-all', token: again.body.token });
    await call('error', { method: 'POST', path: '/api/auth/logout-all' });
    await call('ok', { method: 'GET', path: '/healthz' });
    await call('ok', { method: 'GET', path: '/metrics', token: admin });
    await call('error', { method: 'GET', path: '/metrics' });
    await call('ok', { method: 'GET', path: '/openapi.json' });

    // merchant: products and sales
    const product = await call('ok', { method: 'POST', path: '/admin/products', token: admin, body: { sku: `c-${Date.now()}`, name: 'Contract phone', priceCents: 1_000, stock: 50 } });
    await call('error', { method: 'POST', path: '/admin/products', token: admin, body: { sku: 'x' } });
    await call('ok', { method: 'GET', path: `/admin/products/${product.body.id}`, token: admin });
    await call('error', { method: 'GET', path: '/admin/products/999999999', token: admin });
    await call('ok', { method: 'GET', path: '/admin/products', token: admin });
    await call('error', { method: 'GET', path: '/admin/products?before=x', token: admin });
    const startsAt = new Date(Date.now() + 3_600_000).toISOString();
    const endsAt = new Date(Date.now() + 7_200_000).toISOString();
    const saleBody = { productId: product.body.id, quantity: 2, priceCents: 500, startsAt, endsAt, perUserLimit: 1, holdSeconds: 60 };
    const scheduled = await call('ok', { method: 'POST', path: '/admin/sales', token: admin, body: saleBody });
    await call('error', { method: 'POST', path: '/admin/sales', token: admin, body: { ...saleBody, endsAt: 'yesterday' } });
    await call('ok', { method: 'GET', path: `/admin/sales/${scheduled.body.id}`, token: admin });
    await call('error', { method: 'GET', path: '/admin/sales/999999999', token: admin });
    await call('ok', { method: 'GET', path: '/admin/sales?status=scheduled,open', token: admin });
    await call('error', { method: 'GET', path: '/admin/sales?status=bogus', token: admin });
    await call('ok', { method: 'POST', path: `/admin/sales/${scheduled.body.id}/cancel`, token: admin });
    await call('error', { method: 'POST', path: `/admin/sales/${scheduled.body.id}/cancel` });
    const toClose = await call('ok', { method: 'POST', path: '/admin/sales', token: admin, body: saleBody });
    await call('ok', { method: 'POST', path: `/admin/sales/${toClose.body.id}/close`, token: admin });
    await call('error', { method: 'POST', path: '/admin/sales/999999999/close', token: admin });

    // flash sale: view, reserve, hold, release, checkout, orders
    const { saleId } = await makeSale(t, { quantity: 10, perUserLimit: 2, priceCents: 700 });
    await call('ok', { method: 'GET', path: `/api/sales/${saleId}` });
    await call('error', { method: 'GET', path: '/api/sales/999999999' });
    await call('ok', { method: 'GET', path: '/api/sales?status=open,scheduled' });
    await call('error', { method: 'GET', path: '/api/sales?status=bogus' });
    const held = await call('ok', { method: 'POST', path: `/api/sales/${saleId}/reservations`, token: user.token, body: { quantity: 1 } });
    await call('error', { method: 'POST', path: `/api/sales/${saleId}/reservations`, body: { quantity: 1 } });
    const rid = held.body.reservationId;
    await call('ok', { method: 'GET', path: `/api/reservations/${rid}`, token: user.token });
    await call('error', { method: 'GET', path: `/api/reservations/${rid}`, token: other.token });
    const released = await call('ok', { method: 'POST', path: `/api/sales/${saleId}/reservations`, token: other.token, body: { quantity: 1 } });
    await call('ok', { method: 'DELETE', path: `/api/reservations/${released.body.reservationId}`, token: other.token });
    await call('error', { method: 'DELETE', path: `/api/reservations/${rid}`, token: other.token });
    const paid = await call('ok', { method: 'POST', path: `/api/reservations/${rid}/checkout`, token: user.token, body: { paymentMethod: 'pm_card_ok' }, headers: { 'idempotency-key': `c-${rid}` } });
    await call('error', { method: 'POST', path: `/api/reservations/${rid}/checkout`, token: user.token, body: { paymentMethod: 'pm_card_ok' } });
    const orderId = paid.body.orderId;
    await eventually(async () => (await t.api('GET', `/api/orders/${orderId}`, { token: user.token })).body.status === 'paid', 'the order to be paid');
    await call('ok', { method: 'GET', path: `/api/orders/${orderId}`, token: user.token });
    await call('error', { method: 'GET', path: `/api/orders/${orderId}`, token: other.token });
    await call('ok', { method: 'GET', path: '/api/orders?limit=10', token: user.token });
    await call('error', { method: 'GET', path: '/api/orders?limit=0', token: user.token });
    await call('ok', { method: 'POST', path: `/admin/orders/${orderId}/ship`, token: admin });
    await call('error', { method: 'POST', path: `/admin/orders/${orderId}/ship` });
    await call('ok', { method: 'POST', path: `/admin/sales/${saleId}/reconcile`, token: admin });
    await call('error', { method: 'POST', path: '/admin/sales/999999999/reconcile', token: admin });

    // waiting room over HTTP
    const room = await makeSale(t, { quantity: 10, waitingRoom: true, startsInMs: 60_000 });
    await call('ok', { method: 'POST', path: `/api/sales/${room.saleId}/queue`, token: user.token });
    await call('error', { method: 'POST', path: `/api/sales/${saleId}/queue`, token: user.token });
    await call('ok', { method: 'GET', path: `/api/sales/${room.saleId}/queue`, token: user.token });
    await call('error', { method: 'GET', path: `/api/sales/${room.saleId}/queue`, token: other.token });

    // storefront: search, product, cart, checkout
    await call('ok', { method: 'GET', path: '/api/products/search?q=phone&sort=price_asc' });
    await call('error', { method: 'GET', path: '/api/products/search?pageSize=1000' });
    await call('ok', { method: 'GET', path: `/api/products/${product.body.id}` });
    await call('error', { method: 'GET', path: '/api/products/abc' });
    await call('ok', { method: 'GET', path: '/api/cart' });
    await call('error', { method: 'GET', path: '/api/cart', headers: { 'x-cart-token': 'forged' } });
    await call('ok', { method: 'PUT', path: `/api/cart/items/${product.body.id}`, token: user.token, body: { quantity: 2 } });
    await call('error', { method: 'PUT', path: `/api/cart/items/${product.body.id}`, token: user.token, body: { quantity: 0 } });
    await call('ok', { method: 'PUT', path: `/api/cart/items/${product.body.id}`, token: other.token, body: { quantity: 1 } });
    await call('ok', { method: 'DELETE', path: `/api/cart/items/${product.body.id}`, token: other.token });
    await call('error', { method: 'DELETE', path: '/api/cart/items/abc', token: other.token });
    await call('ok', { method: 'POST', path: '/api/checkout', token: user.token, body: { paymentMethod: 'pm_card_ok' }, headers: { 'idempotency-key': `cart-${user.id}` } });
    await call('error', { method: 'POST', path: '/api/checkout', token: user.token, body: { paymentMethod: 'pm_card_ok' } });

    expectAllCovered(doc, checked);
  });

  it('every route under /api and /admin has a doc in its part\'s api.ts', () => {
    const undocumented = t.engine.routes
      .filter((r) => r.path.startsWith('/api/') || r.path.startsWith('/admin/'))
      .map((r) => routeKey(r.method, r.path))
      .filter((key) => !(key in t.engine.api));
    expect(undocumented, 'add these to the api.ts of the part that owns them').toEqual([]);
  });

  it('GET /docs serves the API reference from this process', async () => {
    const page = await fetch(`${t.url}/docs`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('/docs/swagger-ui-bundle.js');
    expect(html).not.toMatch(/<script>[^<]/);
    const bundle = await fetch(`${t.url}/docs/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
  });

  it("the PSP simulator serves its own document, and answers as it says", async () => {
    const spec = await (await fetch(`${psp.url}/openapi.json`)).json();
    expect(spec.openapi).toBe('3.1.0');
    const checked: Checked = new Map();
    const call = contractCaller(psp.url, spec, checked);
    const key = `contract-${Date.now()}`;
    const charged = await call('ok', { method: 'POST', path: '/v1/charges', headers: { 'idempotency-key': key }, body: { amountCents: 1_000, paymentMethod: 'pm_card_ok' } });
    await call('error', { method: 'POST', path: '/v1/charges', headers: { 'idempotency-key': `${key}-d` }, body: { amountCents: 1_000, paymentMethod: 'pm_card_declined' } });
    await call('ok', { method: 'GET', path: `/v1/charges?idempotencyKey=${key}` });
    await call('error', { method: 'GET', path: '/v1/charges' });
    await call('ok', { method: 'GET', path: `/v1/charges/by-key/${key}` });
    await call('error', { method: 'GET', path: '/v1/charges/by-key/no-such-key' });
    await call('ok', { method: 'GET', path: `/v1/charges/${charged.body.id}` });
    await call('error', { method: 'GET', path: '/v1/charges/ch_none' });
    await call('ok', { method: 'POST', path: '/v1/refunds', headers: { 'idempotency-key': `r-${key}` }, body: { chargeId: charged.body.id } });
    await call('error', { method: 'POST', path: '/v1/refunds', headers: { 'idempotency-key': `r2-${key}` }, body: { chargeId: charged.body.id } });
    await call('ok', { method: 'GET', path: `/v1/stats?key=${key}` });
    await call('ok', { method: 'GET', path: '/healthz' });
    await call('ok', { method: 'GET', path: '/openapi.json' });
    expectAllCovered(spec, checked);
  });
});
