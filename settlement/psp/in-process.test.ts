import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../infra/config.js';
import { createLogger } from '../../infra/logger.js';
import { createPaymentProvider } from '../psp-client.js';
import { PaymentTimeoutError } from '../payments.js';
import { pspOptionsFromEnv, startPspServer } from './server.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('startPspServer (how npm start runs the simulator in-process)', () => {
  it('serves charges on a free port; after close() it starts again on the same data dir and port with the same charges', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'psp-inproc-'));
    dirs.push(dataDir);
    const log = createLogger('warn', 'psp');
    const psp = await startPspServer({ port: 0, dataDir, latencyMs: 0, failureRate: 0, log });
    const payments = createPaymentProvider(loadConfig({ PSP_URL: psp.url, PSP_TIMEOUT_MS: '2000' }));
    const charge = await payments.charge({ idempotencyKey: 'order-1', amountCents: 2500, paymentMethod: 'pm_card_ok' });
    expect(psp.stats.toJSON().charges.created).toBe(1);
    await psp.close();
    // The client's kept-alive connection to the closed server gets no answer, not a stale one.
    await expect(payments.findByKey('order-1')).rejects.toBeInstanceOf(PaymentTimeoutError);

    const again = await startPspServer({ port: psp.port, dataDir, log });
    expect(again.url).toBe(psp.url);
    expect(await payments.charge({ idempotencyKey: 'order-1', amountCents: 2500, paymentMethod: 'pm_card_ok' })).toMatchObject({ id: charge.id });
    expect(again.stats.toJSON().charges.created).toBe(1);
    await payments.close();
    await again.close();
  });

  it('reads its settings from PSP_* environment variables', () => {
    expect(pspOptionsFromEnv({ PSP_PORT: '0', PSP_DATA_DIR: '/tmp/x', PSP_LATENCY_MS: '20-80', PSP_FAILURE_RATE: '0.1' })).toMatchObject({
      port: 0,
      dataDir: '/tmp/x',
      latencyMs: [20, 80],
      failureRate: 0.1,
    });
    expect(pspOptionsFromEnv({ DATA_DIR: '/srv/data' })).toMatchObject({ port: 4010, dataDir: '/srv/data/psp', latencyMs: 0, failureRate: 0 });
    expect(() => pspOptionsFromEnv({ PSP_FAILURE_RATE: '2' })).toThrow(/between 0 and 1/);
    expect(() => pspOptionsFromEnv({ PSP_PORT: 'abc' })).toThrow(/PSP_PORT must be a whole number/);
    expect(() => pspOptionsFromEnv({ PSP_PORT: '70000' })).toThrow(/PSP_PORT/);
  });
});
