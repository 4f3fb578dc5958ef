/**
 * `npm run bench:reserve`: reservation throughput, four ways, on the same box with the same load.
 *   1. bare        a uWS endpoint that does nothing (the ceiling)
 *   2. pg-lock     SELECT ... FOR UPDATE in a transaction (the seed's pessimistic strategy)
 *   3. pg-version  conditional UPDATE ... WHERE quantity >= n AND version = v (the seed's optimistic one)
 *   4. lua         our path through the real gateway: token verify, zod, one Lua call
 * Two phases: `throughput` (stock large enough that every request is a real reservation) and `sellout`
 * (small stock under the same load: the invariants at the moment it runs out). Each server runs in its own
 * process; autocannon runs here. Every phase checks that nothing was oversold. Runs BENCH_RUNS times
 * (default 3) at each load level of BENCH_CONNECTIONS (default "100,300" concurrent connections: a modest
 * load and a flash-sale crowd) and writes the medians and ratios per level to bench/results/reserve.json.
 * On this 2-core box autocannon shares the CPU with the server (and Redis or Postgres), so the ceiling is
 * the box's, load generator included: more connections cost autocannon more per request.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import autocannon from 'autocannon';
import { issueUserToken } from '../infra/auth.js';
import { createTestWorld, type TestWorld } from '../test/harness.js';
import { createSale, openSale, saleKeys, saleStats } from '../reservation/index.js';
import { createProduct } from '../storefront/index.js';
import { benchNumber, cpuPerRequest, localRedisPid, useServices, writeResults } from './settings.js';

const env = process.env;
await useServices('reserve');
const RUNS = benchNumber('BENCH_RUNS', 3);
const DURATION = benchNumber('BENCH_DURATION', 8);
const SELLOUT_DURATION = benchNumber('BENCH_SELLOUT_DURATION', 4);
const WARMUP = benchNumber('BENCH_WARMUP', 2);
const LEVELS = (process.env.BENCH_CONNECTIONS ?? '100,300').split(',').map(Number);
let CONNECTIONS = LEVELS[0];
const WORKERS = benchNumber('BENCH_WORKERS', 0);
const USERS = 1_000;
const BIG_STOCK = 10_000_000;
const SELLOUT_STOCK = 300;
type Mode = 'bare' | 'pg-lock' | 'pg-version' | 'lua';

interface Measure {
  reqPerSec: number;
  p50: number;
  p99: number;
  ok: number;
  refused: number;
  errors: number;
  check: Record<string, unknown> & { noOversell: boolean };
  /** CPU µs per request of the server process, redis-server (when local) and autocannon (this process). */
  cpuUsPerRequest: { server: number | null; redis: number | null; loadGenerator: number | null };
}

const world: TestWorld = await createTestWorld({ logLevel: 'error' });
const { ctx, config } = world;
const redisPid = await localRedisPid(ctx.redis);
const tokens = Array.from({ length: USERS }, (_, i) => issueUserToken(config, String(i + 1)));
await ctx.db.query(`CREATE TABLE bench_inventory (product_id int PRIMARY KEY, quantity int NOT NULL CHECK (quantity >= 0), version int NOT NULL DEFAULT 0);
  CREATE TABLE bench_holds (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, user_id bigint NOT NULL, product_id int NOT NULL, quantity int NOT NULL)`);

function startServer(mode: Mode, extra: Record<string, string>): Promise<{ port: number; child: ChildProcess }> {
  const nodeArgs = (env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean); // e.g. --cpu-prof
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'bench/reserve-server.ts', mode], {
    env: { ...env, REDIS_PREFIX: config.redisPrefix, DB_SCHEMA: config.dbSchema, TOKEN_SECRET: config.tokenSecret, ...extra },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{"port"'));
      if (line) resolve({ port: JSON.parse(line).port, child });
    });
    child.on('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)));
  });
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/**
 * Each connection cycles through one static request per user (autocannon builds static requests once;
 * a per-request setupRequest would make the load generator, not the server, the bottleneck).
 */
async function load(port: number, path: string, seconds: number, quantity = 1): Promise<autocannon.Result> {
  const body = JSON.stringify({ quantity });
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    duration: seconds,
    ...(WORKERS > 0 ? { workers: WORKERS } : {}),
    requests: tokens.map((token) => ({
      method: 'POST' as const,
      path,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body,
    })),
  });
}

let seq = 0;
/** Prepares the stock for one phase; returns the path to load and a check to run afterwards. */
async function prepare(mode: Mode, stock: number, perUserLimit: number) {
  seq++;
  const none: Record<string, string> = {};
  if (mode === 'bare') return { path: '/api/sales/1/reservations', extra: none, check: async () => ({ noOversell: true }) };
  if (mode === 'lua') {
    const product = await createProduct(ctx, { sku: `bench-${seq}`, name: 'Bench', priceCents: 100, stock });
    const now = Date.now();
    const sale = await createSale(ctx, {
      productId: product.id, quantity: stock, priceCents: 100, perUserLimit, holdSeconds: 3600, waitingRoom: false,
      startsAt: new Date(now), endsAt: new Date(now + 3_600_000), powDifficulty: 0,
    });
    await openSale(ctx, sale.id);
    const check = async (ok: number) => {
      const s = await saleStats(ctx, sale.id);
      const perUser = Object.values(await ctx.redis.hgetall(saleKeys(config.redisPrefix, sale.id).users)).map(Number);
      const maxPerUser = perUser.reduce((m, v) => Math.max(m, v), 0);
      const noOversell = s.remaining >= 0 && s.remaining + s.held + s.sold === stock && s.held >= ok && maxPerUser <= perUserLimit;
      return { noOversell, ...s, answered201: ok, maxPerUser, perUserLimit };
    };
    return { path: `/api/sales/${sale.id}/reservations`, extra: none, check, saleId: sale.id };
  }
  const product = seq;
  await ctx.db.query('INSERT INTO bench_inventory (product_id, quantity) VALUES ($1, $2)', [product, stock]);
  const check = async (ok: number) => {
    const { rows } = await ctx.db.query(
      `SELECT (SELECT quantity FROM bench_inventory WHERE product_id = $1) AS inv, count(*)::int AS n, coalesce(sum(quantity), 0)::int AS units
       FROM bench_holds WHERE product_id = $1`,
      [product],
    );
    const { inv, ...holds } = rows[0];
    return { noOversell: inv >= 0 && inv + holds.units === stock && holds.n >= ok, remaining: inv, reserved: holds.units, answered201: ok };
  };
  return { path: '/api/sales/1/reservations', extra: { BENCH_PRODUCT: String(product) }, check };
}

async function dropSaleKeys(saleId: string) {
  let cursor = '0';
  do {
    const [next, keys] = await ctx.redis.scan(cursor, 'MATCH', `${saleKeys(config.redisPrefix, saleId).base}*`, 'COUNT', 5000);
    cursor = next;
    if (keys.length) await ctx.redis.unlink(...keys);
  } while (cursor !== '0');
}

async function phase(mode: Mode, kind: 'throughput' | 'sellout'): Promise<Measure> {
  const big = kind === 'throughput';
  const p = await prepare(mode, big ? BIG_STOCK : SELLOUT_STOCK, big ? 5_000 : 2);
  const { port, child } = await startServer(mode, p.extra);
  try {
    if (big && WARMUP > 0) await load(port, p.path, WARMUP);
    const cpu = cpuPerRequest([child.pid, mode === 'lua' ? redisPid : undefined, process.pid]);
    const r = await load(port, p.path, big ? DURATION : SELLOUT_DURATION);
    const [server, redis, loadGenerator] = cpu(r.requests.total);
    await stopServer(child); // requests still in flight finish or abort before the figures are read
    const check = await p.check(r['2xx']);
    return {
      reqPerSec: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, ok: r['2xx'], refused: r.non2xx, errors: r.errors + r.timeouts, check,
      cpuUsPerRequest: { server, redis, loadGenerator },
    };
  } finally {
    await stopServer(child);
    if ('saleId' in p && p.saleId) await dropSaleKeys(p.saleId);
    await ctx.db.query('TRUNCATE bench_holds');
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const medianCpu = (xs: Array<Measure['cpuUsPerRequest']>): Measure['cpuUsPerRequest'] => {
  const of = (k: keyof Measure['cpuUsPerRequest']) => {
    const v = xs.map((x) => x[k]).filter((n): n is number => n !== null);
    return v.length ? median(v) : null;
  };
  return { server: of('server'), redis: of('redis'), loadGenerator: of('loadGenerator') };
};

const allModes: Mode[] = ['bare', 'pg-lock', 'pg-version', 'lua'];
/** BENCH_MODES (e.g. "lua") runs a subset for a quick look; the results file is written only for a full run. */
const modes = (env.BENCH_MODES?.split(',') as Mode[] | undefined) ?? allModes;
const fullRun = allModes.every((m) => modes.includes(m));
const targets = { luaOverCeiling: '>= 0.6', luaOverRowLock: '>= 30' };

interface Level {
  connections: number;
  medians: Record<string, { reqPerSec: number; p50: number; p99: number; cpuUsPerRequest: Measure['cpuUsPerRequest'] }>;
  ratios: Record<string, unknown> & { luaOverCeiling: number; luaOverRowLock: number };
  meetsTargets: boolean;
  noOversell: boolean;
  runs: Array<Record<string, Measure>>;
}

async function measureLevel(connections: number): Promise<Level> {
  CONNECTIONS = connections;
  const runs: Array<Record<string, Measure>> = [];
  for (let run = 1; run <= RUNS; run++) {
    const got: Record<string, Measure> = {};
    for (const m of modes) {
      got[m] = await phase(m, 'throughput');
      if (!got[m].check.noOversell) console.log(JSON.stringify(got[m].check));
      const cpu = got[m].cpuUsPerRequest;
      console.log(
        `c${connections} run ${run} ${m.padEnd(10)} ${got[m].reqPerSec.toFixed(0).padStart(7)} req/s  p50 ${got[m].p50} ms  p99 ${got[m].p99} ms  201s ${got[m].ok}  other ${got[m].refused}  no oversell: ${got[m].check.noOversell}` +
          `  CPU µs/req: server ${cpu.server ?? '-'}, redis ${cpu.redis ?? '-'}, autocannon ${cpu.loadGenerator ?? '-'}`,
      );
    }
    for (const m of modes.filter((x) => x !== 'bare')) {
      const key = `${m}/sellout`;
      got[key] = await phase(m, 'sellout');
      console.log(`c${connections} run ${run} ${key.padEnd(18)} ${got[key].reqPerSec.toFixed(0).padStart(7)} req/s  p50 ${got[key].p50} ms  p99 ${got[key].p99} ms  201s ${got[key].ok}  refused ${got[key].refused}  no oversell: ${got[key].check.noOversell}`);
    }
    runs.push(got);
  }
  const medians: Level['medians'] = {};
  for (const key of Object.keys(runs[0])) {
    medians[key] = {
      reqPerSec: Math.round(median(runs.map((r) => r[key].reqPerSec))),
      p50: median(runs.map((r) => r[key].p50)),
      p99: median(runs.map((r) => r[key].p99)),
      cpuUsPerRequest: medianCpu(runs.map((r) => r[key].cpuUsPerRequest)),
    };
  }
  if (!fullRun) {
    console.log(`\n${connections} connections, medians of ${RUNS} runs:`, JSON.stringify(medians, null, 1));
    return { connections, medians, ratios: { luaOverCeiling: NaN, luaOverRowLock: NaN }, meetsTargets: false, noOversell: runs.every((r) => Object.values(r).every((m) => m.check.noOversell)), runs };
  }
  const ratio = (a: string, b: string) => Number((medians[a].reqPerSec / medians[b].reqPerSec).toFixed(2));
  const ratios = {
    luaOverCeiling: ratio('lua', 'bare'),
    luaOverRowLock: ratio('lua', 'pg-lock'),
    luaOverVersion: ratio('lua', 'pg-version'),
    sellout: { luaOverRowLock: ratio('lua/sellout', 'pg-lock/sellout'), luaOverVersion: ratio('lua/sellout', 'pg-version/sellout') },
  };
  const noOversell = runs.every((r) => Object.values(r).every((m) => m.check.noOversell));
  const meetsTargets = ratios.luaOverCeiling >= 0.6 && ratios.luaOverRowLock >= 30;
  console.log(`\n${connections} connections, medians of ${RUNS} runs:`);
  for (const [k, v] of Object.entries(medians)) {
    const cpu = v.cpuUsPerRequest;
    console.log(`  ${k.padEnd(18)} ${String(v.reqPerSec).padStart(7)} req/s  p50 ${v.p50} ms  p99 ${v.p99} ms  CPU µs/req: server ${cpu.server ?? '-'}, redis ${cpu.redis ?? '-'}, autocannon ${cpu.loadGenerator ?? '-'}`);
  }
  console.log('ratios:', JSON.stringify(ratios), 'targets:', JSON.stringify(targets), 'met:', meetsTargets, 'no oversell in any phase:', noOversell, '\n');
  return { connections, medians, ratios, meetsTargets, noOversell, runs };
}

const levels: Level[] = [];
try {
  for (const c of LEVELS) levels.push(await measureLevel(c));
} finally {
  await world.cleanup();
}
const noOversell = levels.every((l) => l.noOversell);

if (fullRun) {
  writeResults(
    'reserve',
    {
        benchmark: 'reserve',
        date: new Date().toISOString(),
        machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, loadavg: os.loadavg() },
        settings: { runs: RUNS, durationSeconds: DURATION, selloutSeconds: SELLOUT_DURATION, warmupSeconds: WARMUP, connections: LEVELS, workers: WORKERS, users: USERS, throughputStock: BIG_STOCK, selloutStock: SELLOUT_STOCK },
        targets,
        noOversell,
        levels,
    },
    [
      `Medians of ${RUNS} runs of ${DURATION} s. Targets: Lua path >= 0.6x the bare uWS ceiling and >= 30x the row lock.`,
      '',
      '| connections | bare req/s | lua req/s | pg-lock req/s | lua / bare | lua / pg-lock | targets met | oversell |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      ...levels.map((l) => `| ${l.connections} | ${l.medians.bare?.reqPerSec ?? '-'} | ${l.medians.lua?.reqPerSec ?? '-'} | ${l.medians['pg-lock']?.reqPerSec ?? '-'} | ${l.ratios.luaOverCeiling} | ${l.ratios.luaOverRowLock} | ${l.meetsTargets ? 'yes' : 'no'} | ${l.noOversell ? 'none' : 'FOUND'} |`),
    ],
  );
}
if (!noOversell) process.exitCode = 1;
