/**
 * `npm run bench:settle`: orders settled per second, from enqueue to the committed Postgres row.
 *
 * For each PSP latency (0 ms and 50 ms, the simulator as a real process), BENCH_RUNS times (default 3):
 * a fresh sale gets N holds, all checked out (begin-checkout Lua: state paying) as the checkout route's
 * batcher does under load, BENCH_PER_JOB (default 10) to a settlement job under the job id their holds
 * recorded; then the clock starts, the N / BENCH_PER_JOB jobs are enqueued (addBulk), and the worker settles
 * them: charge over HTTP, batched order writes, hold sold, shopper notified. The clock stops when the N-th
 * order row is committed (seen as Redis `sold` reaching N, then the row count checked in Postgres).
 * Afterwards: no duplicate order, exactly one charge per reservation, Redis sold == N. The workers of a
 * mode are started once and first settle an untimed warm-up of BENCH_WARMUP orders (default 2000; same
 * path, same checks), so the figures are those of a running worker, not of a cold one.
 * Writes bench/results/settle.json with every run, the medians and the ratio to the targets; each run
 * records the cores each process kept busy, and `other` (the rest of the shared box) shows a disturbed run.
 *
 * The worker is the shipped one, run as `npm run worker` runs it (the command line of package.json's
 * `worker` script, Node flags included), as BENCH_WORKERS processes (default 1), each with the mode's
 * concurrency; this process only enqueues and counts. BENCH_IN_PROCESS=1 runs one worker inside this
 * process instead (plus BENCH_WORKERS-1 processes), with this process's Node flags (the setup before
 * 2026-12). BENCH_WORKER_FLAGS adds Node flags to the worker processes (e.g. `--cpu-prof`; recorded).
 *
 * Env: BENCH_RUNS, BENCH_ORDERS_0 (default 20000), BENCH_ORDERS_50 (default 10000),
 *      BENCH_CONCURRENCY_0 (default 200), BENCH_CONCURRENCY_50 (default 400).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Config } from '../infra/config.js';
import { beginCheckout, createSale, openSale, reserveKeys, reserveScript, saleKeys } from '../reservation/index.js';
import { createProduct } from '../storefront/index.js';
import { makeUsers } from '../test/sales.js';
import { createPaymentProvider } from '../settlement/psp-client.js';
import { createSettlementQueue, settleJobOptions } from '../settlement/queue.js';
import type { SettleJob } from '../settlement/settle.js';
import { startSettlementWorker } from '../settlement/worker.js';
import { createTestWorld, type TestWorld } from '../test/harness.js';
import { startPsp, type PspProcess } from '../test/psp.js';
import { watchWorker, workerEnv } from '../test/settlement-helpers.js';
import { benchNumber, useServices, writeResults } from './settings.js';

await useServices('settle');
const RUNS = benchNumber('BENCH_RUNS', 3);
const MODES = [
  { latencyMs: 0, orders: benchNumber('BENCH_ORDERS_0', 20_000), concurrency: benchNumber('BENCH_CONCURRENCY_0', 200), target: 5_000 },
  { latencyMs: 50, orders: benchNumber('BENCH_ORDERS_50', 10_000), concurrency: benchNumber('BENCH_CONCURRENCY_50', 400), target: 1_000 },
];
const USERS = 100;
const WORKERS = benchNumber('BENCH_WORKERS', 1);
const IN_PROCESS = process.env.BENCH_IN_PROCESS === '1';
/** `npm run worker` as package.json defines it, e.g. `node --max-semi-space-size=32 --import tsx scripts/worker.ts`. */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORKER_COMMAND: string = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')).scripts.worker;
/** Extra Node flags for the worker processes (e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`); recorded in the results. */
const WORKER_FLAGS = (process.env.BENCH_WORKER_FLAGS ?? '').split(/\s+/).filter(Boolean);
/** Checkouts per settlement job: the checkout batcher's default batch, full as under load. */
const PER_JOB = benchNumber('BENCH_PER_JOB', 10);
/** Orders settled before the timed runs of each mode, by the same workers (JIT warm, pools open). */
const WARMUP = benchNumber('BENCH_WARMUP', 2_000);

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

const ownCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** CPU seconds the whole box has been busy (all cores; from /proc/stat). */
function boxBusy(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = ticks;
  return (user + nice + system + irq + softirq + steal) / 100;
}

function cpuSnapshot(pspPid: number | undefined, workerPids: Set<number>) {
  return {
    box: boxBusy(),
    worker: cpuOf((_, pid) => workerPids.has(pid)) + (IN_PROCESS ? ownCpu() : 0),
    bench: IN_PROCESS ? 0 : ownCpu(),
    psp: cpuOf((_, pid) => pid === pspPid),
    redis: cpuOf((comm) => comm.startsWith('redis-server')),
    postgres: cpuOf((comm) => comm.startsWith('postgres')),
  };
}

function cpuSince(a: ReturnType<typeof cpuSnapshot>, b: ReturnType<typeof cpuSnapshot>, seconds: number) {
  const share = (x: number) => Math.round((x / seconds) * 100) / 100;
  return {
    worker: share(b.worker - a.worker),
    /** This process: enqueueing and counting rows (0 with BENCH_IN_PROCESS, where it is in `worker`). */
    bench: share(b.bench - a.bench),
    psp: share(b.psp - a.psp),
    redis: share(b.redis - a.redis),
    postgres: share(b.postgres - a.postgres),
    /** Everything else on the box (other people's work on the shared machine): a disturbed run shows here. */
    other: share(b.box - a.box - (b.worker - a.worker) - (b.bench - a.bench) - (b.psp - a.psp) - (b.redis - a.redis) - (b.postgres - a.postgres)),
  };
}

/** One worker process started with the `npm run worker` command line and this world's settings. */
interface WorkerProcess {
  child: ChildProcess;
  ready: Promise<void>;
  stop: () => Promise<void>;
}

const liveWorkers = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveWorkers) child.kill('SIGKILL');
});

function startWorkerProcess(config: Config, concurrency: number): WorkerProcess {
  const [cmd, ...args] = WORKER_COMMAND.split(/\s+/);
  if (cmd !== 'node') throw new Error(`package.json's worker script does not start with node: ${WORKER_COMMAND}`);
  const script = args.pop()!; // node [flags] script: extra flags go last, so they win over the command's
  const child = spawn(process.execPath, [...args, ...WORKER_FLAGS, script], {
    cwd: ROOT,
    env: { ...process.env, ...workerEnv(config), WORKER_CONCURRENCY: String(concurrency) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  liveWorkers.add(child);
  child.once('exit', () => liveWorkers.delete(child));
  const { ready, exited } = watchWorker(child);
  const stop = async () => {
    child.kill('SIGTERM'); // finishes the jobs in hand (there are none left by now), then exits
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return { child, ready, stop };
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
  const k = saleKeys(ctx.config.redisPrefix, sale.id);
  const jobs: SettleJob[] = [];
  const batchIds = Array.from({ length: Math.ceil(n / PER_JOB) }, () => `batch-${randomUUID()}`);
  for (let i = 0; i < n; i += 1_000) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(1_000, n - i) }, async (_, j) => {
        const userId = users[(i + j) % users.length].id;
        const [status, rid] = await reserveScript(ctx.redis, reserveKeys(k), { userId, quantity: 1, idempotencyKey: '', jti: '', markerSeconds: 60 }, Date.now());
        if (status !== 'OK') throw new Error(`reserve: ${status}`);
        const r = await beginCheckout(ctx.redis, k, {
          rid,
          userId,
          nowMs: Date.now(),
          idempotencyKey: `bench-${rid}`,
          orderId: randomUUID(),
          paymentMethod: 'pm_card_ok',
          jobId: batchIds[Math.floor((i + j) / PER_JOB)],
        });
        if (r.status !== 'OK') throw new Error(`begin-checkout: ${r.status}`);
        const { orderId, productId, quantity, unitPriceCents, checkoutAt } = r;
        return { rid, saleId: String(sale.id), userId, orderId, productId, quantity, unitPriceCents, paymentMethod: 'pm_card_ok', checkoutAt };
      }),
    );
    jobs.push(...batch);
  }
  return { saleId: String(sale.id), jobs, batchIds };
}

/** The workers of one mode: started once, they settle every run of it (after an untimed warm-up). */
interface Workers {
  pids: Set<number>;
  stop: () => Promise<void>;
}

async function startWorkers(world: TestWorld, psp: PspProcess, mode: (typeof MODES)[number]): Promise<Workers> {
  const { ctx } = world;
  const provider = IN_PROCESS ? createPaymentProvider({ ...ctx.config, pspUrl: psp.url }) : undefined;
  const worker = provider && startSettlementWorker(ctx, provider, { concurrency: mode.concurrency });
  await worker?.worker.waitUntilReady();
  const processes: WorkerProcess[] = [];
  for (let i = IN_PROCESS ? 1 : 0; i < WORKERS; i++) processes.push(startWorkerProcess({ ...ctx.config, pspUrl: psp.url }, mode.concurrency));
  await Promise.all(processes.map((w) => w.ready));
  return {
    pids: new Set(processes.map((w) => w.child.pid!)),
    stop: async () => {
      await Promise.all(processes.map((w) => w.stop()));
      await worker?.stop();
      await provider?.close();
    },
  };
}

async function runOnce(world: TestWorld, psp: PspProcess, workers: Workers, orders: number, users: Array<{ id: string }>): Promise<Run> {
  const { ctx } = world;
  const { saleId, jobs, batchIds } = await prepare(world, orders, users);
  // The settlement jobs as the checkout route's batcher makes them: PER_JOB checkouts under the id their holds recorded.
  const bulk = batchIds.map((id, b) => {
    const checkouts = jobs.slice(b * PER_JOB, (b + 1) * PER_JOB);
    return { name: 'settle', data: checkouts.length === 1 ? checkouts[0] : { checkouts }, opts: settleJobOptions(ctx.config, id) };
  });
  const chargesBefore: number = (await psp.stats()).charges.created;
  const queue = createSettlementQueue(ctx);
  await sleep(200);
  const cpu0 = cpuSnapshot(psp.pid(), workers.pids);
  const t0 = performance.now();
  for (let i = 0; i < bulk.length; i += 1_000) await queue.addBulk(bulk.slice(i, i + 1_000));
  // A hold is marked sold only after its order row committed, so Redis `sold` reaching N (a cheap read) means
  // every row is in. Counting the rows in Postgres every 10 ms instead made Postgres scan up to N index
  // entries a hundred times a second beside the load being measured.
  const stats = saleKeys(ctx.config.redisPrefix, saleId).stats;
  while (Number(await ctx.redis.hget(stats, 'sold')) < jobs.length) await sleep(5);
  while ((await ctx.db.query('SELECT count(*)::int AS n FROM orders WHERE sale_id = $1', [saleId])).rows[0].n < jobs.length) await sleep(5);
  const seconds = (performance.now() - t0) / 1000;
  const cores = cpuSince(cpu0, cpuSnapshot(psp.pid(), workers.pids), seconds);
  await queue.close();
  const dup = await ctx.db.query(
    `SELECT count(*)::int - count(DISTINCT reservation_id)::int AS dups, count(*) FILTER (WHERE status <> 'paid')::int AS unpaid FROM orders WHERE sale_id = $1`,
    [saleId],
  );
  const charges = (await psp.stats()).charges.created - chargesBefore;
  const sold = Number(await ctx.redis.hget(stats, 'sold'));
  if (dup.rows[0].unpaid) throw new Error(`${dup.rows[0].unpaid} orders not paid`);
  return { cores, orders: jobs.length, seconds, ordersPerSec: Math.round(jobs.length / seconds), duplicates: dup.rows[0].dups + Math.max(0, charges - jobs.length), charges, soldInRedis: sold };
}

const summary = (run: Run) =>
  `${run.ordersPerSec} orders/s (${run.orders} in ${run.seconds.toFixed(2)} s), duplicates ${run.duplicates}, charges ${run.charges}, sold ${run.soldInRedis}, cores ${JSON.stringify(run.cores)}`;

const world = await createTestWorld({ logLevel: 'error', settleAttempts: 8 });
const users = await makeUsers(world.ctx, USERS, 'bench-settle');
const results: Record<string, unknown> = {};
let psp: PspProcess | undefined;
let workers: Workers | undefined;
try {
  for (const mode of MODES) {
    psp = await startPsp({ latencyMs: mode.latencyMs });
    workers = await startWorkers(world, psp, mode);
    const warmup = WARMUP > 0 ? await runOnce(world, psp, workers, WARMUP, users) : undefined;
    if (warmup) console.log(`latency ${mode.latencyMs} ms, warm-up (not counted): ${summary(warmup)}`);
    const runs: Run[] = [];
    for (let r = 0; r < RUNS; r++) {
      const run = await runOnce(world, psp, workers, mode.orders, users);
      console.log(`latency ${mode.latencyMs} ms, run ${r + 1}: ${summary(run)}`);
      runs.push(run);
    }
    await workers.stop();
    workers = undefined;
    await psp.cleanup();
    psp = undefined;
    const med = median(runs.map((r) => r.ordersPerSec));
    results[`latency${mode.latencyMs}ms`] = {
      pspLatencyMs: mode.latencyMs,
      workerConcurrency: mode.concurrency,
      ordersPerRun: mode.orders,
      warmupOrders: WARMUP,
      medianOrdersPerSec: med,
      targetOrdersPerSec: mode.target,
      ratioToTarget: Math.round((med / mode.target) * 100) / 100,
      duplicates: runs.reduce((s, r) => s + r.duplicates, 0) + (warmup?.duplicates ?? 0),
      runs,
    };
  }
} finally {
  await workers?.stop();
  await psp?.cleanup();
  await world.cleanup();
}
const workerSetup = IN_PROCESS
  ? { inBenchProcess: 1, benchNodeFlags: process.execArgv.filter((a) => a.startsWith('--') && !a.startsWith('--import') && !a.startsWith('--require')), processes: WORKERS - 1, command: WORKERS > 1 ? WORKER_COMMAND : undefined }
  : { inBenchProcess: 0, processes: WORKERS, command: WORKER_COMMAND, extraNodeFlags: WORKER_FLAGS.length ? WORKER_FLAGS : undefined };
const out = { name: 'settle', date: new Date().toISOString(), machine: { cpus: os.cpus().length, node: process.version }, runsPerMode: RUNS, workers: workerSetup, perJob: PER_JOB, results };
type ModeResult = { pspLatencyMs: number; medianOrdersPerSec: number; targetOrdersPerSec: number; ratioToTarget: number; duplicates: number; runs: Run[] };
writeResults('settle', out, [
  `Orders settled per second, medians of ${RUNS} runs per PSP latency (${WORKERS} worker process(es)).`,
  '',
  '| PSP latency | orders/s (median) | runs | target | ratio | duplicates |',
  '| --- | --- | --- | --- | --- | --- |',
  ...Object.values(results as Record<string, ModeResult>).map((r) => `| ${r.pspLatencyMs} ms | ${r.medianOrdersPerSec} | ${r.runs.map((x) => x.ordersPerSec).join(' / ')} | ${r.targetOrdersPerSec} | ${r.ratioToTarget} | ${r.duplicates} |`),
]);
console.log(JSON.stringify(results, (k, v) => (k === 'runs' ? undefined : v), 2));
process.exit(0);
