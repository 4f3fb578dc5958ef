import { randomUUID } from 'node:crypto';
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startPsp, type PspProcess } from '../../test/psp.js';
import { HttpPaymentProvider } from '../psp-client.js';
import { PaymentRequestError, PaymentTimeoutError, type Charge } from '../payments.js';
import { LOG_FILE } from './store.js';

const key = () => `res_${randomUUID()}`;
const cleanups: Array<() => Promise<void>> = [];

async function world(opts: Parameters<typeof startPsp>[0] = {}) {
  const psp = await startPsp({ hangMs: 5_000, ...opts });
  const payments = new HttpPaymentProvider({ url: psp.url, timeoutMs: 300 });
  cleanups.push(async () => {
    await payments.close();
    await psp.cleanup();
  });
  return { psp, payments };
}

afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('idempotency across restarts', () => {
  it('after SIGKILL and restart, every key returns the same charge id and status, and no new charge is made', async () => {
    const { psp, payments } = await world();
    const okKey = key();
    const declinedKey = key();
    const timeoutKey = key();
    const dropKey = key();
    const ok = await payments.charge({ idempotencyKey: okKey, amountCents: 100, paymentMethod: 'pm_card_ok' });
    const declined = await payments.charge({ idempotencyKey: declinedKey, amountCents: 200, paymentMethod: 'pm_card_declined' });
    await expect(payments.charge({ idempotencyKey: timeoutKey, amountCents: 300, paymentMethod: 'pm_card_timeout' })).rejects.toBeInstanceOf(PaymentTimeoutError);
    await expect(payments.charge({ idempotencyKey: dropKey, amountCents: 400, paymentMethod: 'pm_card_flaky_drop' })).rejects.toBeInstanceOf(PaymentTimeoutError);
    await payments.refund(ok.id, `refund:${ok.id}`);
    const before = await psp.stats();
    expect(before.charges).toMatchObject({ created: 4, succeeded: 3, declined: 1, refunded: 1 });

    await psp.kill();
    await psp.restart();

    expect(await payments.charge({ idempotencyKey: okKey, amountCents: 100, paymentMethod: 'pm_card_ok' })).toMatchObject({ id: ok.id, status: 'succeeded', refunded: true });
    expect(await payments.charge({ idempotencyKey: declinedKey, amountCents: 200, paymentMethod: 'pm_card_declined' })).toMatchObject({ id: declined.id, status: 'declined' });
    expect(await payments.findByKey(timeoutKey)).toMatchObject({ status: 'succeeded', amountCents: 300 });
    // The dropped first attempt charged; the retry after the restart gets that charge, not a new one.
    const dropped = await payments.charge({ idempotencyKey: dropKey, amountCents: 400, paymentMethod: 'pm_card_flaky_drop' });
    expect(dropped.status).toBe('succeeded');
    await payments.refund(ok.id, `refund:${ok.id}`);
    await expect(payments.charge({ idempotencyKey: okKey, amountCents: 999, paymentMethod: 'pm_card_ok' })).rejects.toBeInstanceOf(PaymentRequestError);
    const after = await psp.stats();
    expect(after.charges).toEqual(before.charges);
    expect(after.refunds).toBe(1);
  });

  it('SIGKILL in the middle of 2,000 charges: every charge a client heard of survives with its id, and retrying all keys makes exactly 2,000', async () => {
    const { psp } = await world();
    const client = new HttpPaymentProvider({ url: psp.url, timeoutMs: 5_000, connections: 64 });
    cleanups.push(() => client.close());
    const keys = Array.from({ length: 2000 }, key);
    const heard = new Map<string, Charge>();
    let settled = 0;
    const attempts = keys.map((k) =>
      client
        .charge({ idempotencyKey: k, amountCents: 50, paymentMethod: 'pm_card_ok' })
        .then((c) => void heard.set(k, c))
        .catch((err) => expect(err).toBeInstanceOf(PaymentTimeoutError))
        .finally(() => settled++),
    );
    while (settled < 300) await new Promise((r) => setTimeout(r, 1));
    await psp.kill();
    await Promise.all(attempts);
    expect(heard.size).toBeGreaterThan(0);
    await psp.restart();

    const found = await Promise.all([...heard.keys()].map((k) => client.findByKey(k)));
    expect(found.map((c) => c?.id)).toEqual([...heard.values()].map((c) => c.id));
    const retried = await Promise.all(keys.map((k) => client.charge({ idempotencyKey: k, amountCents: 50, paymentMethod: 'pm_card_ok' })));
    for (const c of retried) if (heard.has(c.idempotencyKey)) expect(c.id).toBe(heard.get(c.idempotencyKey)!.id);
    expect(new Set(retried.map((c) => c.id)).size).toBe(2000);
    expect((await psp.stats()).charges.created).toBe(2000);
  });

  it('a half-written last line (crash mid-write) is cut off on start; the log stays readable and appendable', async () => {
    const { psp, payments } = await world();
    const first = await payments.charge({ idempotencyKey: key(), amountCents: 100, paymentMethod: 'pm_card_ok' });
    await psp.stop();
    const log = join(psp.dataDir, LOG_FILE);
    await appendFile(log, '{"t":"charge","id":"ch_torn","idempotencyKey":"torn","sta');
    await psp.restart();
    const second = await payments.charge({ idempotencyKey: key(), amountCents: 100, paymentMethod: 'pm_card_ok' });
    expect(await payments.findByKey(first.idempotencyKey)).toMatchObject({ id: first.id });
    expect(await payments.findByKey('torn')).toBeNull();
    await psp.kill();
    await psp.restart();
    expect(await payments.findByKey(second.idempotencyKey)).toMatchObject({ id: second.id });
    const lines = (await readFile(log, 'utf8')).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).id)).toEqual([first.id, second.id]);
  });

  it('while the simulator is down, charge and findByKey fail as outcome-unknown; after it is back the same key charges once', async () => {
    const { psp, payments } = await world();
    const k = key();
    await psp.stop();
    await expect(payments.charge({ idempotencyKey: k, amountCents: 100, paymentMethod: 'pm_card_ok' })).rejects.toBeInstanceOf(PaymentTimeoutError);
    await expect(payments.findByKey(k)).rejects.toBeInstanceOf(PaymentTimeoutError);
    await expect(payments.refund('ch_x', key())).rejects.toBeInstanceOf(PaymentTimeoutError);
    await psp.restart();
    const charge = await payments.charge({ idempotencyKey: k, amountCents: 100, paymentMethod: 'pm_card_ok' });
    expect((await payments.charge({ idempotencyKey: k, amountCents: 100, paymentMethod: 'pm_card_ok' })).id).toBe(charge.id);
    expect((await psp.stats()).charges.created).toBe(1);
  });
});

describe('one simulator per port and per data dir', () => {
  it('a second simulator on the same data dir, or on the same port, refuses to start', async () => {
    const { psp } = await world();
    await expect(startPsp({ dataDir: psp.dataDir })).rejects.toThrow(/in use by process/);
    await expect(startPsp({ port: psp.port })).rejects.toThrow(/port is in use/);
    expect(psp.running()).toBe(true);
  });
});

describe('chaos', () => {
  it('failure rate 0.3: 300 keys retried until they succeed make exactly 300 charges, each the one findByKey returns', async () => {
    const { psp, payments } = await world({ failureRate: 0.3, latencyMs: '0-3' });
    const keys = Array.from({ length: 300 }, key);
    let failures = 0;
    const charges = await Promise.all(
      keys.map(async (k) => {
        for (let attempt = 1; attempt <= 50; attempt++) {
          try {
            return await payments.charge({ idempotencyKey: k, amountCents: 10, paymentMethod: 'pm_card_ok' });
          } catch (err) {
            expect(err).toBeInstanceOf(PaymentTimeoutError);
            failures++;
          }
        }
        throw new Error(`key ${k} never succeeded`);
      }),
    );
    expect(failures).toBeGreaterThan(0);
    const stats = await psp.stats();
    expect(stats.injectedFailures).toBeGreaterThan(0);
    expect(stats.charges.created).toBe(300);
    await psp.restart({ failureRate: 0 });
    const found = await Promise.all(keys.map((k) => payments.findByKey(k)));
    expect(found.map((c) => c?.id)).toEqual(charges.map((c) => c.id));
  });
});
