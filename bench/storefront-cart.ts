/**
 * The cart half of `npm run bench:storefront`: cart throughput through the real gateway (Bearer token check,
 * zod, product lookup, one Lua call or one HGETALL, JSON out) with the write-behind flush to Postgres running.
 *   put    PUT /api/cart/items/:id (1,000 shoppers, 50 products, quantities 1-5)
 *   get    GET /api/cart (the same shoppers' carts)
 *   mixed  the two interleaved, one after the other on each connection
 *   bare   a uWS endpoint that does nothing: the ceiling of the box, for the ratios
 * Afterwards it checks that every cart reached Postgres (write-behind caught up) with what Redis holds.
 * Each phase also records the CPU time per request of the server process, of redis-server (when local) and of
 * this process (autocannon and its workers), from /proc: on a 2-core box they share, their sum bounds req/s.
 * The cart phases of one run share one gateway process (started once, stopped after, which flushes).
 * Runs BENCH_RUNS times (default 3), writes medians and ratios to bench/results/storefront-cart.json.
 * Target: >= 20,000 req/s for cart add and get on the 2-core box.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import autocannon from 'autocannon';
import { issueUserToken } from '../infra/auth.js';
import { createTestWorld } from '../test/harness.js';
import { cartKeys } from '../storefront/cart/keys.js';
import { benchNumber, cpuPerRequest, localRedisPid, useServices, writeResults } from './settings.js';

const env = process.env;
await useServices('storefront-cart');
const RUNS = benchNumber('BENCH_RUNS', 3);
const DURATION = benchNumber('BENCH_DURATION', 8);
const WARMUP = benchNumber('BENCH_WARMUP', 2);
const CONNECTIONS = benchNumber('BENCH_CONNECTIONS', 100);
const WORKERS = benchNumber('BENCH_WORKERS', 2);
const USERS = 1_000;
const PRODUCTS = 50;
const TARGET = 20_000;
type Phase = 'bare' | 'put' | 'get' | 'mixed';

const world = await createTestWorld({ logLevel: 'error' });
const { ctx, config } = world;
const keys = cartKeys(config.redisPrefix);

const users = (
  await ctx.db.query(`INSERT INTO users (email, password_hash) SELECT 'bench' || g || '@example.com', 'x' FROM generate_series(1, $1) g RETURNING id`, [USERS])
).rows.map((r) => String(r.id));
const products = (
  await ctx.db.query(
    `WITH p AS (INSERT INTO products (sku, name, category, price_cents) SELECT 'cart-bench-' || g, 'Bench product ' || g, 'bench', 100 * g FROM generate_series(1, $1) g RETURNING id)
     INSERT INTO inventory (product_id, quantity) SELECT id, 1000000 FROM p RETURNING product_id`,
    [PRODUCTS],
  )
).rows.map((r) => Number(r.product_id));
const tokens = users.map((u) => issueUserToken(config, u));

const redisPid = await localRedisPid(ctx.redis);

function startServer(mode: 'bare' | 'engine'): Promise<ChildProcess & { port: number }> {
  // BENCH_CPU_PROF=<dir>: the server writes a V8 CPU profile there when it stops.
  const prof = env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${env.BENCH_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...prof, '--import', 'tsx', 'bench/storefront-cart-server.ts', mode], {
    env: { ...env, REDIS_PREFIX: config.redisPrefix, DB_SCHEMA: config.dbSchema, TOKEN_SECRET: config.tokenSecret },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{"port"'));
      if (line) resolve(Object.assign(child, { port: JSON.parse(line).port as number }));
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

/** Static requests, built once (a per-request setupRequest would make autocannon the bottleneck). */
function requests(phase: Phase, round: number): autocannon.Request[] {
  const put = (i: number) => ({
    method: 'PUT' as const,
    path: `/api/cart/items/${products[(i + round) % PRODUCTS]}`,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[i]}` },
    body: JSON.stringify({ quantity: ((i + round) % 5) + 1 }),
  });
  const get = (i: number) => ({ method: 'GET' as const, path: '/api/cart', headers: { authorization: `Bearer ${tokens[i]}` } });
  if (phase === 'put') return tokens.map((_, i) => put(i));
  if (phase === 'mixed') return tokens.flatMap((_, i) => [put(i), get(i)]);
  return tokens.map((_, i) => get(i));
}

function load(port: number, phase: Phase, seconds: number, round: number): Promise<autocannon.Result> {
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    duration: seconds,
    ...(WORKERS > 0 ? { workers: WORKERS } : {}),
    requests: requests(phase, round),
  });
}

/** After the server's final flush: every cart in Redis is in Postgres with the same lines and version. */
async function persisted(): Promise<{ ok: boolean; carts: number; matching: number; dirtyLeft: number }> {
  const dirtyLeft = (await Promise.all(keys.allDirty().map((k) => ctx.redis.zcard(k)))).reduce((a, b) => a + b, 0);
  const { rows } = await ctx.db.query('SELECT user_id::text AS id, items, version FROM carts');
  const pg = new Map(rows.map((r) => [r.id, r]));
  let carts = 0;
  let matching = 0;
  for (const u of users) {
    const hash = await ctx.redis.hgetall(keys.user(u));
    if (hash._v === undefined) continue;
    carts++;
    const lines = Object.entries(hash).filter(([k]) => !k.startsWith('_')).sort();
    const row = pg.get(u);
    // A cart never changed (read only: version 0, empty) has nothing to persist.
    const same = row
      ? Number(row.version) === Number(hash._v) && JSON.stringify(Object.entries(row.items).map(([k, v]) => [k, String(v)]).sort()) === JSON.stringify(lines)
      : Number(hash._v) === 0 && lines.length === 0;
    if (same) matching++;
  }
  return { ok: dirtyLeft === 0 && matching === carts, carts, matching, dirtyLeft };
}

interface Measure {
  reqPerSec: number;
  p50: number;
  p99: number;
  ok: number;
  non2xx: number;
  errors: number;
  /** CPU µs per request of the server process, redis-server and the load generator (null: not measured). */
  cpuUsPerRequest: { server: number | null; redis: number | null; loadGenerator: number | null };
}

let round = 0;
/** One measured phase on a running server (warm-up first). */
async function phase(p: Phase, server: ChildProcess & { port: number }): Promise<Measure> {
  round++;
  if (WARMUP > 0) await load(server.port, p, WARMUP, round);
  const cpu = cpuPerRequest([server.pid, redisPid, process.pid]);
  const r = await load(server.port, p, DURATION, round);
  const [serverUs, redisUs, loadGeneratorUs] = cpu(r.requests.total);
  await new Promise((done) => setTimeout(done, 300)); // requests autocannon left in flight finish
  return {
    reqPerSec: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    ok: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    cpuUsPerRequest: { server: serverUs, redis: redisUs, loadGenerator: loadGeneratorUs },
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const phases = (env.BENCH_PHASES ?? 'bare,put,get,mixed').split(',') as Phase[];
const runs: Array<Record<string, Measure>> = [];
const checks: Array<Awaited<ReturnType<typeof persisted>>> = [];
try {
  for (let run = 1; run <= RUNS; run++) {
    const got: Record<string, Measure> = {};
    const report = (p: Phase) => {
      const m = got[p];
      const cpu = m.cpuUsPerRequest;
      console.log(
        `run ${run} ${p.padEnd(6)} ${m.reqPerSec.toFixed(0).padStart(7)} req/s  p50 ${m.p50} ms  p99 ${m.p99} ms  2xx ${m.ok}  other ${m.non2xx}  errors ${m.errors}` +
          `  CPU µs/req: server ${cpu.server ?? '-'}, redis ${cpu.redis ?? '-'}, load generator ${cpu.loadGenerator ?? '-'}`,
      );
    };
    if (phases.includes('bare')) {
      const bare = await startServer('bare');
      try {
        got.bare = await phase('bare', bare);
        report('bare');
      } finally {
        await stopServer(bare);
      }
    }
    // One engine process per run for the cart phases; its SIGTERM runs the final write-behind flush.
    const engine = await startServer('engine');
    try {
      for (const p of phases.filter((x) => x !== 'bare')) {
        got[p] = await phase(p, engine);
        report(p);
      }
    } finally {
      await stopServer(engine);
    }
    const check = await persisted();
    console.log(`run ${run} write-behind: ${check.matching}/${check.carts} carts in Postgres as in Redis, ${check.dirtyLeft} left dirty`);
    checks.push(check);
    runs.push(got);
  }
} finally {
  await world.cleanup();
}

const medianOrNull = (xs: Array<number | null>) => (xs.every((x) => x !== null) ? median(xs as number[]) : null);
const medians: Record<string, { reqPerSec: number; p50: number; p99: number; cpuUsPerRequest: Record<string, number | null> }> = {};
for (const p of phases) {
  medians[p] = {
    reqPerSec: Math.round(median(runs.map((r) => r[p].reqPerSec))),
    p50: median(runs.map((r) => r[p].p50)),
    p99: median(runs.map((r) => r[p].p99)),
    cpuUsPerRequest: {
      server: medianOrNull(runs.map((r) => r[p].cpuUsPerRequest.server)),
      redis: medianOrNull(runs.map((r) => r[p].cpuUsPerRequest.redis)),
      loadGenerator: medianOrNull(runs.map((r) => r[p].cpuUsPerRequest.loadGenerator)),
    },
  };
}
const ratio = (a: string, b: string) => (medians[a] && medians[b] ? Number((medians[a].reqPerSec / medians[b].reqPerSec).toFixed(2)) : null);
const ratios = { putOverCeiling: ratio('put', 'bare'), getOverCeiling: ratio('get', 'bare'), mixedOverCeiling: ratio('mixed', 'bare') };
const met = Object.fromEntries(phases.filter((p) => p !== 'bare').map((p) => [p, medians[p].reqPerSec >= TARGET]));
const allOk = runs.every((r) => Object.values(r).every((m) => m.errors === 0 && m.non2xx === 0));
const persistedOk = checks.every((c) => c.ok);
console.log('\nmedians of', RUNS, 'runs:');
for (const [k, v] of Object.entries(medians)) {
  const cpu = v.cpuUsPerRequest;
  console.log(`  ${k.padEnd(6)} ${String(v.reqPerSec).padStart(7)} req/s  p50 ${v.p50} ms  p99 ${v.p99} ms  CPU µs/req: server ${cpu.server ?? '-'}, redis ${cpu.redis ?? '-'}, load generator ${cpu.loadGenerator ?? '-'}`);
}
console.log('ratios:', JSON.stringify(ratios), `target >= ${TARGET} req/s met:`, JSON.stringify(met), 'all 2xx:', allOk, 'write-behind caught up:', persistedOk);

writeResults(
  'storefront-cart',
  {
      benchmark: 'storefront-cart',
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, loadavg: os.loadavg() },
      settings: { runs: RUNS, durationSeconds: DURATION, warmupSeconds: WARMUP, connections: CONNECTIONS, workers: WORKERS, users: USERS, products: PRODUCTS },
      medians,
      ratios,
      target: { reqPerSec: TARGET, met },
      allResponses2xx: allOk,
      writeBehind: checks,
      runs,
  },
  [
    `Cart requests per second, medians of ${RUNS} runs of ${DURATION} s at ${CONNECTIONS} connections. Target: >= ${TARGET} req/s.`,
    '',
    '| phase | req/s | p50 ms | p99 ms | target met |',
    '| --- | --- | --- | --- | --- |',
    ...Object.entries(medians).map(([k, v]) => `| ${k} | ${v.reqPerSec} | ${v.p50} | ${v.p99} | ${k === 'bare' ? '(ceiling)' : met[k] ? 'yes' : 'no'} |`),
    '',
    `All responses 2xx: ${allOk ? 'yes' : 'NO'}; write-behind caught up: ${persistedOk ? 'yes' : 'NO'}.`,
  ],
);
if (!allOk || !persistedOk) process.exitCode = 1;
