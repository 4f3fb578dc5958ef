import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPsp, type PspProcess } from '../../test/psp.js';
import { HttpPaymentProvider } from '../psp-client.js';
import { PaymentRequestError, PaymentTimeoutError, type ChargeRequest } from '../payments.js';

const key = () => `res_${randomUUID()}`;
const ok = (idempotencyKey: string, amountCents = 1999): ChargeRequest => ({ idempotencyKey, amountCents, paymentMethod: 'pm_card_ok' });

let psp: PspProcess;
let payments: HttpPaymentProvider;

beforeAll(async () => {
  psp = await startPsp({ hangMs: 5_000 });
  payments = new HttpPaymentProvider({ url: psp.url, timeoutMs: 300 });
});

afterAll(async () => {
  await payments?.close();
  await psp?.cleanup();
});

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(psp.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

describe('deterministic payment methods', () => {
  it('pm_card_ok succeeds; the same key returns the same charge and makes no second one', async () => {
    const k = key();
    const first = await payments.charge({ ...ok(k), metadata: { orderId: 'o1' } });
    expect(first).toMatchObject({ idempotencyKey: k, status: 'succeeded', amountCents: 1999, currency: 'usd', refunded: false });
    expect(first.id).toMatch(/^ch_/);
    const again = await payments.charge(ok(k));
    expect(again.id).toBe(first.id);
    expect(await payments.findByKey(k)).toMatchObject({ id: first.id, status: 'succeeded' });
    expect((await psp.stats(k)).key).toMatchObject({ attempts: 2, chargeId: first.id, status: 'succeeded' });
  });

  it('pm_card_declined answers 402 card_declined, recorded under the key: every retry gets the same decline', async () => {
    const k = key();
    const raw = await post('/v1/charges', { amountCents: 500, paymentMethod: 'pm_card_declined' }, { 'idempotency-key': k });
    expect(raw.status).toBe(402);
    expect(raw.body.error).toMatchObject({ code: 'card_declined', charge: { status: 'declined', idempotencyKey: k } });
    const viaClient = await payments.charge({ idempotencyKey: k, amountCents: 500, paymentMethod: 'pm_card_declined' });
    expect(viaClient).toMatchObject({ id: raw.body.error.charge.id, status: 'declined' });
    expect(await payments.findByKey(k)).toMatchObject({ id: viaClient.id, status: 'declined' });
  });

  it('pm_card_timeout: every attempt outlives the client timeout (PaymentTimeoutError), yet the charge exists once and findByKey finds it', async () => {
    const k = key();
    const req: ChargeRequest = { idempotencyKey: k, amountCents: 700, paymentMethod: 'pm_card_timeout' };
    await expect(payments.charge(req)).rejects.toBeInstanceOf(PaymentTimeoutError);
    await expect(payments.charge(req)).rejects.toBeInstanceOf(PaymentTimeoutError);
    const found = await payments.findByKey(k);
    expect(found).toMatchObject({ idempotencyKey: k, status: 'succeeded', amountCents: 700 });
    expect((await psp.stats(k)).key).toMatchObject({ attempts: 2, chargeId: found!.id });
  });

  it.each(['pm_card_flaky_503', 'pm_card_flaky_drop'])('%s: the first attempt fails with an unknown outcome, the retry with the same key succeeds, one charge', async (paymentMethod) => {
    const k = key();
    const req: ChargeRequest = { idempotencyKey: k, amountCents: 900, paymentMethod };
    await expect(payments.charge(req)).rejects.toBeInstanceOf(PaymentTimeoutError);
    const second = await payments.charge(req);
    expect(second.status).toBe('succeeded');
    expect((await payments.charge(req)).id).toBe(second.id);
    expect((await psp.stats(k)).key).toMatchObject({ attempts: 3, chargeId: second.id });
  });

  it('pm_card_flaky: 20 keys each fail their first attempt (503 or dropped connection, fixed per key) and succeed once on retry', async () => {
    const before = (await psp.stats()).charges.created;
    const keys = Array.from({ length: 20 }, key);
    const firsts = await Promise.allSettled(keys.map((k) => payments.charge({ idempotencyKey: k, amountCents: 100, paymentMethod: 'pm_card_flaky' })));
    for (const r of firsts) expect(r.status === 'rejected' && r.reason instanceof PaymentTimeoutError).toBe(true);
    const retries = await Promise.all(keys.map((k) => payments.charge({ idempotencyKey: k, amountCents: 100, paymentMethod: 'pm_card_flaky' })));
    expect(retries.every((c) => c.status === 'succeeded')).toBe(true);
    expect(new Set(retries.map((c) => c.id)).size).toBe(20);
    expect((await psp.stats()).charges.created - before).toBe(20);
  });
});

describe('idempotency keys', () => {
  it('a key reused with a different amount is a 409 idempotency_conflict (PaymentRequestError), and the first charge stands', async () => {
    const k = key();
    const first = await payments.charge(ok(k, 1000));
    const raw = await post('/v1/charges', { amountCents: 1001, paymentMethod: 'pm_card_ok' }, { 'idempotency-key': k });
    expect(raw.status).toBe(409);
    expect(raw.body.error.code).toBe('idempotency_conflict');
    const err = await payments.charge(ok(k, 1001)).catch((e) => e);
    expect(err).toBeInstanceOf(PaymentRequestError);
    expect(err).toMatchObject({ code: 'idempotency_conflict', status: 409 });
    expect(await payments.findByKey(k)).toMatchObject({ id: first.id, amountCents: 1000 });
  });

  it('500 parallel charges over 100 distinct keys make exactly 100 charges, one id per key', async () => {
    const before = (await psp.stats()).charges.created;
    const keys = Array.from({ length: 100 }, key);
    const parallel = new HttpPaymentProvider({ url: psp.url, timeoutMs: 10_000 });
    const charges = await Promise.all(Array.from({ length: 500 }, (_, i) => parallel.charge(ok(keys[i % 100]!))));
    await parallel.close();
    const idsByKey = new Map<string, Set<string>>();
    for (const c of charges) idsByKey.set(c.idempotencyKey, (idsByKey.get(c.idempotencyKey) ?? new Set()).add(c.id));
    expect(idsByKey.size).toBe(100);
    expect([...idsByKey.values()].every((ids) => ids.size === 1)).toBe(true);
    const stats = await psp.stats();
    expect(stats.charges.created - before).toBe(100);
    for (const k of keys.slice(0, 5)) expect((await psp.stats(k)).key.attempts).toBe(5);
  });

  it('lookup routes: by key (charge or 404), by id, the list form, and per-key stats', async () => {
    const k = `odd key/${randomUUID()}`;
    const charge = await payments.charge(ok(k));
    const byKey = await fetch(`${psp.url}/v1/charges/by-key/${encodeURIComponent(k)}`);
    expect(await byKey.json()).toMatchObject({ id: charge.id, idempotencyKey: k });
    expect((await fetch(`${psp.url}/v1/charges/by-key/never-seen`)).status).toBe(404);
    expect(await (await fetch(`${psp.url}/v1/charges/${charge.id}`)).json()).toMatchObject({ id: charge.id });
    expect((await fetch(`${psp.url}/v1/charges/ch_nope`)).status).toBe(404);
    const list = (await (await fetch(`${psp.url}/v1/charges?idempotencyKey=${encodeURIComponent(k)}`)).json()) as any;
    expect(list).toMatchObject({ object: 'list', data: [{ id: charge.id }] });
    const stats = (await (await fetch(`${psp.url}/v1/stats?perKey=1`)).json()) as any;
    expect(stats.attemptsByKey[k]).toBe(1);
  });

  it('findByKey is null for a key the PSP never saw', async () => {
    expect(await payments.findByKey(key())).toBeNull();
  });
});

describe('refunds', () => {
  it('refunding is idempotent: the same key twice, and another key after it, leave one refund', async () => {
    const charge = await payments.charge(ok(key()));
    const before = (await psp.stats()).refunds;
    await payments.refund(charge.id, `refund:${charge.id}`);
    await payments.refund(charge.id, `refund:${charge.id}`);
    await payments.refund(charge.id, `other:${charge.id}`); // already refunded: the goal is reached
    expect((await psp.stats()).refunds - before).toBe(1);
    expect(await payments.findByKey(charge.idempotencyKey)).toMatchObject({ refunded: true });
  });

  it('refunding a declined or unknown charge is refused (PaymentRequestError)', async () => {
    const declined = await payments.charge({ idempotencyKey: key(), amountCents: 5, paymentMethod: 'pm_card_declined' });
    await expect(payments.refund(declined.id, key())).rejects.toMatchObject({ code: 'invalid_state', status: 409 });
    await expect(payments.refund('ch_nope', key())).rejects.toMatchObject({ code: 'not_found', status: 404 });
  });
});

describe('bad requests get a clear 4xx', () => {
  it('no Idempotency-Key header: 400 naming the header', async () => {
    const raw = await post('/v1/charges', { amountCents: 100, paymentMethod: 'pm_card_ok' });
    expect(raw.status).toBe(400);
    expect(raw.body.error).toMatchObject({ code: 'invalid_request', field: 'Idempotency-Key' });
    expect((await post('/v1/refunds', { chargeId: 'ch_x' })).status).toBe(400);
  });

  it.each([
    [{ amountCents: -1, paymentMethod: 'pm_card_ok' }, 'amountCents'],
    [{ amountCents: 1.5, paymentMethod: 'pm_card_ok' }, 'amountCents'],
    [{ amountCents: 100 }, 'paymentMethod'],
    [{ amountCents: 100, paymentMethod: 'pm_card_nope' }, 'paymentMethod'],
    [{ amountCents: 100, paymentMethod: 'pm_card_ok', currency: 'US' }, 'currency'],
    ['{not json', 'body'],
    ['', 'body'],
  ])('body %j: 400 invalid_request on %s, nothing charged', async (body, field) => {
    const before = (await psp.stats()).charges.created;
    const raw = await post('/v1/charges', body, { 'idempotency-key': key() });
    expect(raw.status).toBe(400);
    expect(raw.body.error).toMatchObject({ code: 'invalid_request', field });
    expect((await psp.stats()).charges.created).toBe(before);
  });

  it('unknown routes are 404 JSON; lookups without a key are 400', async () => {
    const res = await fetch(`${psp.url}/v2/nothing`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.code).toBe('not_found');
    expect((await fetch(`${psp.url}/v1/charges`)).status).toBe(400);
  });
});
