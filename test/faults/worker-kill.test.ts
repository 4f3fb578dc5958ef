import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, makeUsers } from '../sales.js';
import { saleStats } from '../../reservation/index.js';
import { createPaymentProvider } from '../../settlement/psp-client.js';
import { startTestEngine, type TestEngine } from '../engine.js';
import { startPsp, type PspProcess } from '../psp.js';
import { holdsFor, openSaleNow, spawnWorker, type WorkerProcess } from '../settlement-helpers.js';
import { report, saleFigures } from './invariants.js';

let t: TestEngine;
let psp: PspProcess;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  psp = await startPsp({ latencyMs: '800-1500' });
  // Default lock (SETTLE_LOCK_MS 5 s): the setting under test. Settlement runs in worker processes only.
  t = await startTestEngine({ pspUrl: psp.url, settleBackoffMs: 100 }, false);
});
afterAll(async () => {
  for (const w of workers) await w.kill();
  await t?.cleanup();
  await psp?.cleanup();
});

it('a worker SIGKILLed with checkouts in flight: its jobs are taken up by the other worker within 10 s, each paid once', async () => {
  const N = 200;
  const { saleId } = await openSaleNow(t.ctx, N, 700);
  const users = await makeUsers(t.ctx, N);
  const rids = await holdsFor(t.ctx, saleId, users.map((u) => u.id));
  const doomed = spawnWorker(t.config, { WORKER_CONCURRENCY: '5' });
  workers.push(doomed);
  await doomed.ready;
  const replies = await Promise.all(
    rids.map((rid, i) => t.api('POST', `/api/reservations/${rid}/checkout`, { token: users[i].token, body: { paymentMethod: 'pm_card_ok' }, headers: { 'idempotency-key': `k-${rid}` } })),
  );
  expect(replies.every((r) => r.status === 202)).toBe(true);
  const queue = `${t.config.redisPrefix}bull:settlement:active`;
  await eventually(async () => (await t.ctx.redis.llen(queue)) >= 5, 'the doomed worker to hold 5 jobs');
  const survivor = spawnWorker(t.config, { WORKER_CONCURRENCY: '50' });
  workers.push(survivor);
  await survivor.ready;
  await doomed.kill();
  const killedAt = Date.now();
  const soldAtKill = (await saleStats(t.ctx, saleId)).sold;
  await eventually(async () => (await saleStats(t.ctx, saleId)).sold === N, 'every hold sold', 60_000);
  const recoveryMs = Date.now() - killedAt;
  const provider = createPaymentProvider({ ...t.config, pspUrl: psp.url }, t.ctx.db);
  const f = report({ ...(await saleFigures(t.ctx, provider, saleId, new Map(rids.map((rid, i) => [rid, users[i].id])), 'settlement worker SIGKILLed mid-settlement')), recoveryMs });
  await provider.close();
  expect(soldAtKill).toBeLessThan(N);
  expect(f).toMatchObject({ paidOrders: N, charges: N, refunds: 0, oversold: 0, paidRefunded: 0, chargesWithoutOrder: 0, heldByTwo: 0 });
  expect(recoveryMs).toBeLessThan(10_000); // the bound: lock 5 s + stalled check 3 s, then a PSP round trip
});
