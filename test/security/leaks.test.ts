import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeUsers } from '../sales.js';
import { redactUrl } from '../../infra/redact.js';
import { startTestEngine, type TestEngine } from '../engine.js';
import { startPsp, type PspProcess } from '../psp.js';

describe('URLs in logs are redacted with a URL parser', () => {
  it('userinfo passwords (also with / and @), empty user names, and password-like query parameters', () => {
    expect(redactUrl('redis://:s3cret@cache:6379/0')).toBe('redis://:***@cache:6379/0');
    expect(redactUrl('postgres://app:pa%2Fss%40word@db:5432/shop')).toBe('postgres://app:***@db:5432/shop');
    expect(redactUrl('postgres://db:5432/shop?user=app&password=hunter2&sslmode=require')).toBe('postgres://db:5432/shop?user=app&password=***&sslmode=require');
    expect(redactUrl('https://es:9200/?api_key=abc&token=xyz')).toBe('https://es:9200/?api_key=***&token=***');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    for (const leaky of ['redis://:pw@h', 'postgres://u:a/b@h/db', 'x://h/?password=p']) expect(redactUrl(leaky)).not.toMatch(/pw|a\/b|=p\b/);
    expect(redactUrl('not a url with password secret')).toBe('[unparseable URL]');
  });
});

describe('the PSP\'s own messages stay server-side', () => {
  let t: TestEngine;
  let psp: PspProcess;
  beforeAll(async () => {
    psp = await startPsp();
    t = await startTestEngine({ pspUrl: psp.url, pspTimeoutMs: 2000 }, false);
  });
  afterAll(async () => {
    await t?.cleanup();
    await psp?.cleanup();
  });

  it('a payment request the PSP refuses is a 402 with our words only', async () => {
    const p = await t.api('POST', '/admin/products', { token: t.config.adminApiKey, body: { sku: 'leak-1', name: 'Pen', priceCents: 100, stock: 5 } });
    const [u] = await makeUsers(t.ctx, 1);
    await t.api('PUT', `/api/cart/items/${p.body.id}`, { token: u.token, body: { quantity: 1 } });
    const res = await t.api('POST', '/api/checkout', { token: u.token, body: { paymentMethod: 'pm_internal_debug_zz' }, headers: { 'idempotency-key': 'leak' } });
    expect(res.status).toBe(402);
    expect(res.body.error).toEqual({ code: 'payment_declined', message: 'the payment was refused' });
    const replay = await t.api('POST', '/api/checkout', { token: u.token, body: { paymentMethod: 'pm_internal_debug_zz' }, headers: { 'idempotency-key': 'leak' } });
    expect(replay.body.error.message).toBe('the payment was refused');
  });
});
