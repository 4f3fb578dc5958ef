import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, makeUsers } from '../sales.js';
import { saleStats } from '../../reservation/index.js';
import { createSettlementServices, reconcileNow } from '../../settlement/index.js';
import { createPaymentProvider } from '../../settlement/psp-client.js';
import { startDedicatedPostgres, type DedicatedPostgres } from '../dedicated-postgres.js';
import { startTestEngine, type TestEngine } from '../engine.js';
import { startOwnRedis, type OwnRedis } from '../own-redis.js';
import { startPsp, type PspProcess } from '../psp.js';
import { holdsFor, openSaleNow } from '../settlement-helpers.js';
import { report, saleFigures } from './invariants.js';

/**
 * Outages longer than the old retry budget (8 attempts, about 32 s), with the budget made short or long by
 * configuration (production keeps at least 10 minutes), and /healthz during each outage.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const OUTAGE_MS = 35_000;

let redis: OwnRedis;
let pg: DedicatedPostgres;
let psp: PspProcess;
let t: TestEngine;

beforeAll(async () => {
  [redis, pg, psp] = await Promise.all([startOwnRedis(), startDedicatedPostgres(), startPsp({ latencyMs: '5-20' })]);
  t = await startTestEngine({
    redisUrl: redis.url, databaseUrl: pg.url, pspUrl: psp.url, pspTimeoutMs: 500, logLevel: 'silent',
    settleBudgetMs: 120_000, settleBackoffMs: 100, settleBackoffMaxMs: 2_000, workerConcurrency: 20,
  });
});
afterAll(async () => {
  await t?.cleanup();
  await Promise.all([redis?.cleanup(), pg?.cleanup(), psp?.cleanup()]);
});

async function checkoutAll(rids: string[], users: Array<{ token: string }>) {
  const replies = await Promise.all(
    rids.map((rid, i) => t.api('POST', `/api/reservations/${rid}/checkout`, { token: users[i].token, body: { paymentMethod: 'pm_card_ok' }, headers: { 'idempotency-key': `k-${rid}` } })),
  );
  expect(replies.every((r) => r.status === 202)).toBe(true);
  return replies;
}

async function timedHealth(): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const r = await t.api('GET', '/healthz');
  return { status: r.status, ms: Math.round(performance.now() - started) };
}

describe('/healthz during an outage', () => {
  it('answers 503 within 1 s while Redis is killed and while Postgres is stopped, and 200 once each is back', async () => {
    expect((await timedHealth()).status).toBe(200);
    await redis.kill9();
    const redisDown = await timedHealth();
    await redis.start();
    await eventually(async () => (await timedHealth()).status === 200, 'health back after Redis');
    await pg.stop();
    const pgDown = await timedHealth();
    await pg.start();
    await eventually(async () => (await timedHealth()).status === 200, 'health back after Postgres');
    console.log(`[fault figures] ${JSON.stringify({ scenario: '/healthz during outages', redisDownMs: redisDown.ms, postgresDownMs: pgDown.ms })}`);
    expect(redisDown.status).toBe(503);
    expect(pgDown.status).toBe(503);
    expect(redisDown.ms).toBeLessThan(1_000); // the bound
    expect(pgDown.ms).toBeLessThan(1_000);
  });
});

describe('settlement through outages longer than the old retry budget', () => {
  async function scenario(name: string, down: () => Promise<void>, up: () => Promise<void>) {
    const N = 100;
    const { saleId } = await openSaleNow(t.ctx, N, 700);
    const users = await makeUsers(t.ctx, N);
    const rids = await holdsFor(t.ctx, saleId, users.map((u) => u.id));
    await down();
    const started = Date.now();
    await checkoutAll(rids, users);
    await sleep(OUTAGE_MS);
    // Every hold is still being paid for: nothing failed, nothing went back to stock.
    const during = await saleStats(t.ctx, saleId);
    const paying = await t.ctx.redis.zcard(`${t.config.redisPrefix}{sale:${saleId}}:paying`);
    await up();
    await eventually(async () => (await saleStats(t.ctx, saleId)).sold === N, 'every hold sold', 60_000);
    const provider = createPaymentProvider({ ...t.config, pspUrl: psp.url }, t.ctx.db);
    const f = report({ ...(await saleFigures(t.ctx, provider, saleId, new Map(rids.map((rid, i) => [rid, users[i].id])), name)), recoveryMs: Date.now() - started - OUTAGE_MS });
    await provider.close();
    expect(during).toMatchObject({ remaining: 0, sold: 0 });
    expect(during.held).toBe(N);
    expect(paying).toBe(N);
    expect(f).toMatchObject({ paidOrders: N, charges: N, refunds: 0, oversold: 0, paidRefunded: 0, chargesWithoutOrder: 0 });
    const failed = await t.ctx.db.query(`SELECT count(*)::int AS n FROM orders WHERE sale_id = $1 AND status = 'failed'`, [saleId]);
    expect(failed.rows[0].n).toBe(0);
  }

  it('PSP killed for 35 s: every checkout waits paying, then is paid once with one charge', async () => {
    await scenario('PSP killed 35 s (budget 120 s)', () => psp.kill(), () => psp.restart());
  });

  it('Postgres stopped for 35 s: every checkout waits paying, then is paid once with one charge', async () => {
    await scenario('Postgres stopped 35 s (budget 120 s)', () => pg.stop(), () => pg.start());
  });
});

describe('an outage longer than the budget', () => {
  let short: TestEngine;
  beforeAll(async () => {
    short = await startTestEngine({ pspUrl: psp.url, pspTimeoutMs: 300, logLevel: 'silent', settleBudgetMs: 3_000, settleBackoffMs: 100, settleBackoffMaxMs: 500 });
  });
  afterAll(async () => {
    await short?.cleanup();
  });

  it('PSP down past a 3 s budget: each checkout fails once its budget is spent, units back, nothing charged or kept', async () => {
    const N = 30;
    const { saleId } = await openSaleNow(short.ctx, N);
    const users = await makeUsers(short.ctx, N);
    const rids = await holdsFor(short.ctx, saleId, users.map((u) => u.id));
    await psp.kill();
    const started = Date.now();
    const replies = await Promise.all(
      rids.map((rid, i) => short.api('POST', `/api/reservations/${rid}/checkout`, { token: users[i].token, body: { paymentMethod: 'pm_card_ok' }, headers: { 'idempotency-key': `k-${rid}` } })),
    );
    expect(replies.every((r) => r.status === 202)).toBe(true);
    await eventually(async () => (await saleStats(short.ctx, saleId)).remaining === N, 'every unit back', 60_000);
    const failedAfterMs = Date.now() - started;
    await psp.restart();
    const recon = await reconcileNow(createSettlementServices(short.ctx), saleId, { stuckAfterMs: 0 });
    const provider = createPaymentProvider({ ...short.config, pspUrl: psp.url }, short.ctx.db);
    const f = report({ ...(await saleFigures(short.ctx, provider, saleId, new Map(rids.map((rid, i) => [rid, users[i].id])), 'PSP down past a 3 s budget')), recoveryMs: failedAfterMs });
    await provider.close();
    expect(failedAfterMs).toBeGreaterThanOrEqual(3_000); // not before the budget
    expect(recon.ok).toBe(true);
    expect(f).toMatchObject({ paidOrders: 0, charges: 0, chargesWithoutOrder: 0, oversold: 0 });
  });
});
