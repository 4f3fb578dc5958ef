/**
 * The search half of `npm run bench:storefront`: GET /api/products/search through the real gateway on
 * 100,000 seeded products (Postgres backend), 50 concurrent clients (autocannon), each request a random one of
 * 1,200 distinct searches generated from the catalog's words (bench/storefront-search-mix.ts: words, phrases,
 * broad and narrow words, typos, prefixes, filters, all sorts, later pages, browsing). Scenarios, each
 * BENCH_RUNS times (default 3), on the same mix, medians reported side by side with their ratios:
 *   cached         the engine as shipped: results cached per index generation
 *   cached+writes  the same while 20 stock changes a second go through the outbox, so the cache is emptied
 *                  at every drain; it also measures how long a change takes to show in search (freshness)
 *   uncached       SEARCH_CACHE=off: every request is a Postgres query (postings path)
 *   uncached-scan  SEARCH_CACHE=off SEARCH_PG_PATH=scan: the first design (every match ranked over its row)
 * Writes bench/results/storefront-search.json, the query mix included. Target: uncached p95 < 30 ms at 50
 * clients. BENCH_COMPARE=1 also checks that the two Postgres paths answer the whole mix identically.
 * The bench schema (BENCH_SCHEMA, default `bench_search`) is kept between runs and reseeded only when its
 * catalog is not the 100k one (BENCH_FRESH=1 forces it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import autocannon from 'autocannon';
import { loadConfig } from '../infra/config.js';
import { createContext } from '../infra/context.js';
import { inTransaction } from '../infra/db.js';
import { migrate } from '../infra/migrate.js';
import { writeOutbox } from '../infra/outbox.js';
import { progressBar } from '../scripts/progress.js';
import { seedCatalog } from '../scripts/seed-catalog.js';
import { bumpGeneration, PostgresSearch } from '../storefront/search/index.js';
import { benchNumber, useServices, writeResults } from './settings.js';
import { compareSearches, searchMix } from './storefront-search-mix.js';

const env = process.env;
await useServices('storefront-search');
const RUNS = benchNumber('BENCH_RUNS', 3);
const DURATION = benchNumber('BENCH_DURATION', 10);
const WARMUP = benchNumber('BENCH_WARMUP', 3);
const CONNECTIONS = benchNumber('BENCH_CONNECTIONS', 50);
const PRODUCTS = benchNumber('BENCH_PRODUCTS', 100_000);
const WRITES_PER_SEC = 20;
const TARGET_P95_MS = 30;
const SCHEMA = env.BENCH_SCHEMA ?? 'bench_search';
const PREFIX = 'bench-search:';

const config = loadConfig({ ...env, DB_SCHEMA: SCHEMA, REDIS_PREFIX: PREFIX, LOG_LEVEL: 'error' });
const ctx = createContext(config);
await migrate(ctx.db, SCHEMA);

// The catalog: reused when it is already the deterministic 100k one.
await ctx.db.query(`DELETE FROM products WHERE sku LIKE 'fresh-%'`);
await ctx.db.query('DELETE FROM outbox');
const have = (await ctx.db.query(`SELECT count(*)::int AS n FROM products WHERE sku LIKE 'SEED-%'`)).rows[0].n;
const indexed = (await ctx.db.query('SELECT count(*)::int AS n FROM product_search')).rows[0].n;
const posted = (await ctx.db.query('SELECT count(*)::int AS n FROM search_counts')).rows[0].n;
if (env.BENCH_FRESH === '1' || have !== PRODUCTS || indexed !== PRODUCTS || posted === 0) {
  const started = Date.now();
  await ctx.db.query(`DELETE FROM products WHERE sku NOT LIKE 'SEED-%' OR substring(sku from 6)::int > $1`, [PRODUCTS]);
  await seedCatalog(ctx.db, PRODUCTS, progressBar('seed'));
  await new PostgresSearch(ctx.db).reindex(progressBar('index'));
  process.stderr.write(`seeded and indexed ${PRODUCTS} products in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
}
await ctx.db.query('VACUUM ANALYZE product_search');
await ctx.db.query('VACUUM ANALYZE search_postings');
await bumpGeneration(ctx.redis, PREFIX);

const mix = searchMix(1200, PRODUCTS);
const paths = mix.map((m) => m.path);

// Both Postgres paths answer every search of the mix the same way (also storefront/search/equivalence.test.ts).
let equivalence: { searches: number; differences: Array<{ path: string }> } | undefined;
if (env.BENCH_COMPARE === '1') {
  const started = Date.now();
  const differences = await compareSearches(new PostgresSearch(ctx.db, 'postings'), new PostgresSearch(ctx.db, 'scan'), mix);
  equivalence = { searches: mix.length, differences: differences.map((d) => ({ path: d.path })) };
  process.stderr.write(`postings vs scan on ${mix.length} searches: ${differences.length} differences (${Date.now() - started} ms)\n`);
}


function startServer(cache: boolean, path: 'postings' | 'scan'): Promise<ChildProcess & { port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/storefront-search-server.ts'], {
    env: { ...env, DB_SCHEMA: SCHEMA, REDIS_PREFIX: PREFIX, SEARCH_CACHE: cache ? 'on' : 'off', SEARCH_PG_PATH: path, SEARCH_SYNC_INTERVAL_MS: '200' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{"port"'));
      if (line) resolve(Object.assign(child, { port: JSON.parse(line).port as number }));
    });
    child.on('exit', (code) => reject(new Error(`search server exited with ${code}`)));
  });
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const median = (xs: number[]) => pct([...xs].sort((a, b) => a - b), 50);
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** 50 clients for `seconds`, each request a random query of the mix; exact percentiles from every response. */
async function load(port: number, seconds: number) {
  const latencies: number[] = [];
  let seed = 12345;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % paths.length;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        connections: CONNECTIONS,
        duration: seconds,
        requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: paths[next()]! }) }],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on('response', (_client, _status, _bytes, ms) => latencies.push(ms));
  });
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    rps: round(latencies.length / seconds, 0),
    p50: round(pct(latencies, 50)),
    p95: round(pct(latencies, 95)),
    p99: round(pct(latencies, 99)),
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

/** Stock changes through the outbox at WRITES_PER_SEC, plus a marker product whose stock flips every 500 ms,
 * timed from commit until search shows the new in-stock flag. */
function writer(port: number) {
  let stopped = false;
  const lags: number[] = [];
  const indexLags: number[] = [];
  const churn = (async () => {
    let i = 0;
    while (!stopped) {
      const id = 1 + ((i++ * 7919) % PRODUCTS);
      await inTransaction(ctx.db, async (c) => {
        const { rows } = await c.query(
          `UPDATE inventory SET quantity = (quantity + 1) % 5, version = version + 1
           WHERE product_id = (SELECT id FROM products WHERE sku = $1) RETURNING product_id`,
          [`SEED-${String(id).padStart(7, '0')}`],
        );
        if (rows[0]) await writeOutbox(c, 'product', rows[0].product_id);
      });
      await new Promise((r) => setTimeout(r, 1000 / WRITES_PER_SEC));
    }
  })();
  const fresh = (async () => {
    const marker = `freshmarker${Date.now()}`;
    const id = await inTransaction(ctx.db, async (c) => {
      const { rows } = await c.query(`INSERT INTO products (sku, name, category, price_cents) VALUES ($1, $2, 'bench', 100) RETURNING id`, [`fresh-${marker}`, `Bench ${marker}`]);
      await c.query('INSERT INTO inventory (product_id, quantity) VALUES ($1, 1)', [rows[0].id]);
      await writeOutbox(c, 'product', rows[0].id);
      return rows[0].id;
    });
    let inStock = true;
    while (!stopped) {
      await new Promise((r) => setTimeout(r, 500));
      inStock = !inStock;
      await inTransaction(ctx.db, async (c) => {
        await c.query('UPDATE inventory SET quantity = $2 WHERE product_id = $1', [id, inStock ? 1 : 0]);
        await writeOutbox(c, 'product', id);
      });
      const committed = performance.now();
      const indexed = (async () => {
        while ((await ctx.db.query('SELECT in_stock FROM product_search WHERE product_id = $1', [id])).rows[0]?.in_stock !== inStock) {
          await new Promise((r) => setTimeout(r, 5));
        }
        indexLags.push(performance.now() - committed);
      })();
      for (;;) {
        const body = (await (await fetch(`http://127.0.0.1:${port}/api/products/search?q=${marker}`)).json()) as { hits: Array<{ inStock: boolean }> };
        if (body.hits[0]?.inStock === inStock) break;
        if (performance.now() - committed > 5000) throw new Error('a change took over 5 s to show in search');
        await new Promise((r) => setTimeout(r, 10));
      }
      lags.push(performance.now() - committed);
      await indexed;
    }
  })();
  return async () => {
    stopped = true;
    await Promise.all([churn, fresh]);
    lags.sort((a, b) => a - b);
    indexLags.sort((a, b) => a - b);
    return {
      changes: lags.length,
      p50: round(pct(lags, 50), 0),
      max: round(lags[lags.length - 1] ?? NaN, 0),
      indexP50: round(pct(indexLags, 50), 0),
      indexMax: round(indexLags[indexLags.length - 1] ?? NaN, 0),
    };
  };
}

type Scenario = 'cached' | 'cached+writes' | 'uncached' | 'uncached-scan';
const runs: Record<Scenario, Array<Awaited<ReturnType<typeof load>> & { freshnessMs?: { changes: number; p50: number; max: number; indexP50: number; indexMax: number } }>> = {
  cached: [],
  'cached+writes': [],
  uncached: [],
  'uncached-scan': [],
};
const only = env.BENCH_SCENARIOS?.split(',');
for (let run = 1; run <= RUNS; run++) {
  for (const scenario of (Object.keys(runs) as Scenario[]).filter((s) => !only || only.includes(s))) {
    const server = await startServer(!scenario.startsWith('uncached'), scenario === 'uncached-scan' ? 'scan' : 'postings');
    try {
      // Writes start after the warm-up: the cold-cache storm of the first seconds is not the steady state.
      await load(server.port, WARMUP);
      const stopWriter = scenario === 'cached+writes' ? writer(server.port) : null;
      const result = await load(server.port, DURATION);
      const freshnessMs = stopWriter ? await stopWriter() : undefined;
      runs[scenario].push({ ...result, ...(freshnessMs ? { freshnessMs } : {}) });
      process.stderr.write(`run ${run} ${scenario}: ${JSON.stringify({ ...result, ...(freshnessMs ? { freshnessMs } : {}) })}\n`);
    } finally {
      await stopServer(server);
    }
  }
}
await ctx.db.query(`DELETE FROM products WHERE sku LIKE 'fresh-%'`);
// The marker product leaves the index through the backend, so its postings and counts go with it.
const stale = (await ctx.db.query('SELECT product_id FROM product_search WHERE product_id NOT IN (SELECT id FROM products)')).rows.map((r) => Number(r.product_id));
const version = Number((await ctx.db.query(`SELECT nextval('search_sync_version')::bigint AS v`)).rows[0].v);
if (stale.length) await new PostgresSearch(ctx.db).apply({ upserts: [], deletes: stale, version });

const summary = Object.fromEntries(
  (Object.keys(runs) as Scenario[]).map((s) => {
    const r = runs[s];
    return [s, { rps: median(r.map((x) => x.rps)), p50: median(r.map((x) => x.p50)), p95: median(r.map((x) => x.p95)), p99: median(r.map((x) => x.p99)), errors: r.reduce((a, x) => a + x.errors + x.non2xx, 0) }];
  }),
) as Record<Scenario, { rps: number; p50: number; p95: number; p99: number; errors: number }>;
const report = {
  name: 'storefront-search',
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg: os.loadavg().map((x) => round(x)) },
  setup: { products: PRODUCTS, backend: 'postgres', connections: CONNECTIONS, durationSec: DURATION, warmupSec: WARMUP, runs: RUNS, distinctQueries: paths.length, writesPerSec: WRITES_PER_SEC },
  target: { p95Ms: TARGET_P95_MS },
  medians: summary,
  ratios: {
    uncachedOverCachedP95: round(summary.uncached.p95 / summary.cached.p95),
    cachedOverUncachedRps: round(summary.cached.rps / summary.uncached.rps),
    writesOverCachedP95: round(summary['cached+writes'].p95 / summary.cached.p95),
    scanOverPostingsP95: round(summary['uncached-scan'].p95 / summary.uncached.p95),
    postingsOverScanRps: round(summary.uncached.rps / summary['uncached-scan'].rps),
  },
  freshnessMs: runs['cached+writes'].map((r) => r.freshnessMs),
  meetsTarget: Object.fromEntries((Object.keys(summary) as Scenario[]).map((s) => [s, summary[s].p95 < TARGET_P95_MS])),
  equivalence,
  runs,
  mix: Object.fromEntries(['word', 'broad', 'phrase', 'narrow', 'typo', 'prefix', 'browse'].map((k) => [k, mix.filter((m) => m.kind === k).length])),
  queries: paths,
};
if (!only) {
  writeResults('storefront-search', report, [
    `Search over ${PRODUCTS.toLocaleString('en-US')} products at ${CONNECTIONS} clients, medians of ${RUNS} runs of ${DURATION} s. Target: p95 < ${TARGET_P95_MS} ms.`,
    '',
    '| scenario | req/s | p50 ms | p95 ms | p99 ms | errors | target met |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...(Object.keys(summary) as Scenario[]).map((s) => `| ${s} | ${summary[s].rps} | ${summary[s].p50} | ${summary[s].p95} | ${summary[s].p99} | ${summary[s].errors} | ${report.meetsTarget[s] ? 'yes' : 'no'} |`),
  ]);
}
console.log(JSON.stringify({ medians: report.medians, ratios: report.ratios, freshnessMs: report.freshnessMs, meetsTarget: report.meetsTarget, equivalence: equivalence && { searches: equivalence.searches, differences: equivalence.differences.length } }, null, 2));
await ctx.close();
