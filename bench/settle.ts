/**
 * `npm run bench:settle`: orders settled per second, from enqueue to the committed Postgres row.
 *
 * For each PSP latency (0 ms and 50 ms, the simulator as a real process), BENCH_RUNS times (default 3):
 * a fresh sale gets N holds, all checked out (begin-checkout Lua: state paying) as the checkout route's
 * batcher does under load, BENCH_PER_JOB (default 10) to a settlement job under the job id their holds
 * recorded; then the clock starts, the N / BENCH_PER_JOB jobs are enqueued (addBulk), and the in-process worker settles them: charge over
 * HTTP, batched order writes, hold sold, shopper notified. The clock stops when the N-th order row is
 * committed. Afterwards: no duplicate order, exactly one charge per reservation, Redis sold == N.
 * Writes bench/results/settle.json with every run, the medians and the ratio to the targets.
 *
 * BENCH_WORKERS=n (default 1) adds n-1 worker processes (`scripts/worker.ts`, as `npm run worker` runs
 * them), each with the same concurrency.
 *
 * Env: BENCH_RUNS, BENCH_ORDERS_0 (default 20000), BENCH_ORDERS_50 (default 10000),
 *      BENCH_CONCURRENCY_0 (default 200), BENCH_CONCURRENCY_50 (default 400).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { createProduct, createSale, openSale, runScript, saleKeys } from '../reservation/index.js';
import { makeUsers } from '../reservation/testing.js';
import { settlementSaleKeys } from '../settlement/keys.js';
import { createPaymentProvider } from '../settlement/psp-client.js';
import { createSettlementQueue, settleJobOptions } from '../settlement/queue.js';
import type { SettleJob } from '../settlement/settle.js';
import { startSettlementWorker } from '../settlement/worker.js';
import { createTestWorld, type TestWorld } from '../test/harness.js';
import { startPsp, type PspProcess } from '../test/psp.js';
import { spawnWorker, type WorkerProcess } from '../test/settlement-helpers.js';
import { benchNumber, useLocalServices } from './settings.js';

useLocalServices();
const RUNS = benchNumber('BENCH_RUNS', 3);
const MODES = [
  { latencyMs: 0, orders: benchNumber('BENCH_ORDERS_0', 20_000), concurrency: benchNumber('BENCH_CONCURRENCY_0', 200), target: 5_000 },
  { latencyMs: 50, orders: benchNumber('BENCH_ORDERS_50', 10_000), concurrency: benchNumber('BENCH_CONCURRENCY_50', 400), target: 1_000 },
];
const USERS = 100;
const WORKERS = benchNumber('BENCH_WORKERS', 1);
/** Checkouts per settlement job: the checkout batcher's default batch, full as under load. */
const PER_JOB = benchNumber('BENCH_PER_JOB', 10);

/** CPU seconds used so far by the processes with this command name (from /proc; Linux only). */
function cpuOf(match: (comm: string, pid: number) => boolean): number {
  const tick = 100; // USER_HZ
  let total = 0;
  for (const d of readdirSync('/proc')) {
    const pid = Number(d);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!match(comm, pid)) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) / tick;
    } catch {
      /* gone */
    }
  }
  return total;
}

function cpuSnapshot(pspPid: number | undefined) {
  return {
    worker: process.cpuUsage(),
    psp: cpuOf((_, pid) => pid === pspPid),
    redis: cpuOf((comm) => comm.startsWith('redis-server')),
    postgres: cpuOf((comm) => comm.startsWith('postgres')),
  };
}

function cpuSince(a: ReturnType<typeof cpuSnapshot>, b: ReturnType<typeof cpuSnapshot>, seconds: number) {
  const share = (x: number) => Math.round((x / seconds) * 100) / 100;
  return {
    worker: share((b.worker.user - a.worker.user + b.worker.system - a.worker.system) / 1e6),
    psp: share(b.psp - a.psp),
    redis: share(b.redis - a.redis),
    postgres: share(b.postgres - a.postgres),
  };
}

interface Run {
  /** Cores busy on average while it ran, per process (2 = the whole box). */
  cores?: ReturnType<typeof cpuSince>;
  orders: number;
  seconds: number;
  ordersPerSec: number;
  duplicates: number;
  charges: number;
  soldInRedis: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fresh open sale with `n` holds already checked out; returns the settlement jobs to enqueue. */
async function prepare(world: TestWorld, n: number, users: Array<{ id: string }>): Promise<{ saleId: string; jobs: SettleJob[]; batchIds: string[] }> {
  const { ctx } = world;
  const product = await createProduct(ctx, { sku: `bench-settle-${randomUUID()}`, name: 'Bench', priceCents: 1_000, stock: n });
  const now = Date.now();
  const sale = await createSale(ctx, {
    productId: product.id, quantity: n, priceCents: 500, perUserLimit: 10_000, holdSeconds: 3600, waitingRoom: false,
    startsAt: new Date(now), endsAt: new Date(now + 3_600_000), powDifficulty: 0,
  });
  await openSale(ctx, sale.id);
  const k = settlementSaleKeys(ctx.config.redisPrefix, sale.id);
  const jobs: SettleJob[] = [];
  const batchIds = Array.from({ length: Math.ceil(n / PER_JOB) }, () => `batch-${randomUUID()}`);
  for (let i = 0; i < n; i += 1_000) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(1_000, n - i) }, async (_, j) => {
        const userId = users[(i + j) % users.length].id;
        const [status, rid] = await runScript<[string, string]>(ctx.redis, 'reserve', [k.meta, k.stock, k.holds, k.users, k.idem, k.stats, k.events], [userId, 1, Date.now(), '', '', 60]);
        if (status !== 'OK') throw new Error(`reserve: ${status}`);
        const r = await runScript<[string, string, number, number, string, number]>(ctx.redis, 'begin-checkout', [k.meta, k.holds, k.paying], [rid, userId, Date.now(), `bench-${rid}`, randomUUID(), 'pm_card_ok', batchIds[Math.floor((i + j) / PER_JOB)]]);
        if (r[0] !== 'OK') throw new Error(`begin-checkout: ${r[0]}`);
        return { rid, saleId: String(sale.id), userId, orderId: r[1], productId: String(r[4]), quantity: Number(r[2]), unitPriceCents: Number(r[3]), paymentMethod: 'pm_card_ok', checkoutAt: Number(r[5]) };
      }),
    );
    jobs.push(...batch);
  }
  return { saleId: String(sale.id), jobs, batchIds };
}

async function runOnce(world: TestWorld, psp: PspProcess, mode: (typeof MODES)[number], users: Array<{ id: string }>): Promise<Run> {
  const { ctx } = world;
  const { saleId, jobs, batchIds } = await prepare(world, mode.orders, users);
  // The settlement jobs as the checkout route's batcher makes them: PER_JOB checkouts under the id their holds recorded.
  const bulk = batchIds.map((id, b) => {
    const checkouts = jobs.slice(b * PER_JOB, (b + 1) * PER_JOB);
    return { name: 'settle', data: checkouts.length === 1 ? checkouts[0] : { checkouts }, opts: settleJobOptions(ctx.config, id) };
  });
  const chargesBefore: number = (await psp.stats()).charges.created;
  const provider = createPaymentProvider({ ...ctx.config, pspUrl: psp.url });
  const worker = startSettlementWorker(ctx, provider, { concurrency: mode.concurrency });
  await worker.worker.waitUntilReady();
  const extra: WorkerProcess[] = [];
  for (let i = 1; i < WORKERS; i++) extra.push(spawnWorker({ ...ctx.config, pspUrl: psp.url }, { WORKER_CONCURRENCY: String(mode.concurrency) }));
  await Promise.all(extra.map((w) => w.ready));
  const queue = createSettlementQueue(ctx);
  await sleep(200);
  const cpu0 = cpuSnapshot(psp.pid());
  const t0 = performance.now();
  for (let i = 0; i < bulk.length; i += 1_000) await queue.addBulk(bulk.slice(i, i + 1_000));
  let done = 0;
  while (done < jobs.length) {
    await sleep(10);
    done = (await ctx.db.query('SELECT count(*)::int AS n FROM orders WHERE sale_id = $1', [saleId])).rows[0].n;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cores = cpuSince(cpu0, cpuSnapshot(psp.pid()), seconds);
  for (const w of extra) await w.kill();
  await worker.stop();
  await queue.close();
  await provider.close?.();
  const dup = await ctx.db.query(
    `SELECT count(*)::int - count(DISTINCT reservation_id)::int AS dups, count(*) FILTER (WHERE status <> 'paid')::int AS unpaid FROM orders WHERE sale_id = $1`,
    [saleId],
  );
  const charges = (await psp.stats()).charges.created - chargesBefore;
  const sold = Number(await ctx.redis.hget(saleKeys(ctx.config.redisPrefix, saleId).stats, 'sold'));
  if (dup.rows[0].unpaid) throw new Error(`${dup.rows[0].unpaid} orders not paid`);
  return { cores, orders: jobs.length, seconds, ordersPerSec: Math.round(jobs.length / seconds), duplicates: dup.rows[0].dups + Math.max(0, charges - jobs.length), charges, soldInRedis: sold };
}

const world = await createTestWorld({ logLevel: 'error', settleAttempts: 8 });
const users = await makeUsers(world.ctx, USERS, 'bench-settle');
const results: Record<string, unknown> = {};
let psp: PspProcess | undefined;
try {
  for (const mode of MODES) {
    psp = await startPsp({ latencyMs: mode.latencyMs });
    const runs: Run[] = [];
    for (let r = 0; r < RUNS; r++) {
      const run = await runOnce(world, psp, mode, users);
      console.log(`latency ${mode.latencyMs} ms, run ${r + 1}: ${run.ordersPerSec} orders/s (${run.orders} in ${run.seconds.toFixed(2)} s), duplicates ${run.duplicates}, charges ${run.charges}, sold ${run.soldInRedis}, cores ${JSON.stringify(run.cores)}`);
      runs.push(run);
    }
    await psp.cleanup();
    psp = undefined;
    const med = median(runs.map((r) => r.ordersPerSec));
    results[`latency${mode.latencyMs}ms`] = {
      pspLatencyMs: mode.latencyMs,
      workerConcurrency: mode.concurrency,
      ordersPerRun: mode.orders,
      medianOrdersPerSec: med,
      targetOrdersPerSec: mode.target,
      ratioToTarget: Math.round((med / mode.target) * 100) / 100,
      duplicates: runs.reduce((s, r) => s + r.duplicates, 0),
      runs,
    };
  }
} finally {
  await psp?.cleanup();
  await world.cleanup();
}
const out = { name: 'settle', date: new Date().toISOString(), machine: { cpus: os.cpus().length, node: process.version }, runsPerMode: RUNS, workerProcesses: WORKERS, results };
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/settle.json', JSON.stringify(out, null, 2) + '\n');
console.log(JSON.stringify(results, (k, v) => (k === 'runs' ? undefined : v), 2));
process.exit(0);
