/**
 * `npm run bench:queue`: the waiting room at scale. Starts G gateway processes against one Redis and one
 * Postgres (a bench schema and Redis prefix of its own, dropped afterwards), forks client processes that
 * open one WebSocket per shopper, spread evenly over the gateways, and measures:
 *   - the join rate (shoppers whose `queued` message arrived, per second of the join phase);
 *   - per admission tick, the time from the tick until 50% and 99% of the connected waiting clients have
 *     the broadcast. The tick's time is the tick script's own clock (Redis TIME, kept with the serving
 *     position in the sale's rate samples `wr:rate`), the same clock as Date.now in every process on this
 *     box. Also reported from the publish as this process sees it on `<prefix>wr:broadcast` (`sincePublish`):
 *     that comes a few ms after the tick (the admission tokens are issued and published first), and on a
 *     busy box this process may get it after the first clients do. Without either it falls back to the
 *     first arrival anywhere (the arrival spread, a lower bound);
 *   - gateway memory per idle socket: read with half of each gateway's sockets connected (the client
 *     processes wait) and with all of them (before the start, nothing sent), each right after two full GCs
 *     in the gateway (bench/queue-gc.ts, loaded with --expose-gc): anonymous resident memory with the V8
 *     heap at its live size; the growth divided by the sockets added. Also kept: the growth from no sockets
 *     (read 30 s after start-up), plain VmRSS, and the earlier settled VmRSS without a GC, which swings by
 *     1-2 KB per socket with V8's heap sizing (see `steady`).
 * Figures are medians over the measured ticks, also per gateway. Writes bench/results/queue.json.
 *
 * Scale (flags --name=value or env QUEUE_<NAME>): shoppers (54000), gateways (3), clients (ceil(shoppers /
 * 18000)), ticks (10), interval (1000 ms), batch (100), concurrency (handshakes in flight per client, 250),
 * client (`lite`: bench/ws-lite.ts, or `ws`: the ws package), background (`one`: only the first gateway runs
 * background work, or `all`), startIn (seconds from creating the sale to its start, shoppers / 700 + 45: the join phase on a busy box runs at ~900 joins/s),
 * probe (a directory: one memory line a second from every gateway, bench/queue-probe.ts; diagnostics).
 * Run it under `flock /tmp/fs-cpu.lock`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../infra/config.js';
import { createContext } from '../infra/context.js';
import { migrate } from '../infra/migrate.js';
import { dropWorld } from '../test/harness.js';
import { MAX_REFRESH_MS, queueKeys, tierLayout } from '../waiting-room/index.js';
import type { ClientJob, TickSeen } from './queue-client.js';
import { useServices, writeResults } from './settings.js';
import { boxBusySeconds, cpuSeconds, gatewayOf, gcReading, openFilesLimit, settledRss, startGateway, stopGateway, type GatewayProc, type GcReading } from './queue-gateways.js';

const arg = (name: string, fallback: number): number => {
  const flag = process.argv.find((a) => a.startsWith(`--${name}=`));
  const raw = flag?.split('=')[1] ?? process.env[`QUEUE_${name.toUpperCase()}`];
  return raw ? Number(raw) : fallback;
};
const SHOPPERS = arg('shoppers', 108_000);
/** The box allows 20,000 open files per process: 18,000 sockets per gateway and per client process. */
const GATEWAYS = arg('gateways', Math.ceil(SHOPPERS / 18_000));
const CLIENTS = arg('clients', Math.ceil(SHOPPERS / 18_000));
const TICKS = arg('ticks', 10);
const INTERVAL_MS = arg('interval', 1000);
const BATCH = arg('batch', 100);
const CONCURRENCY = arg('concurrency', 250);
/** Seconds from creating the sale to its start: everyone joins before it (no ticks during the join phase). */
const START_IN = arg('startIn', Math.ceil(SHOPPERS / 700) + 45);
/** `one`: background work (ticker, sweeper, schedule, workers) on the first gateway only; `all`: on every one (the lease picks the ticker). */
const BACKGROUND = (process.argv.find((a) => a.startsWith('--background='))?.split('=')[1] ?? process.env.QUEUE_BACKGROUND ?? 'one') as 'one' | 'all';
/** Diagnostics: a directory for bench/queue-probe.ts's per-gateway memory lines and the phase marks (off by default). */
const PROBE = process.argv.find((a) => a.startsWith('--probe='))?.split('=')[1] ?? process.env.QUEUE_PROBE;
const marks: Record<string, number> = {};
const mark = (name: string) => {
  marks[name] = Date.now();
};
/** The head tier's reach, as the gateways compute it (waiting-room/tiers.ts). */
const HEAD_BOUND = tierLayout(BATCH, INTERVAL_MS).bounds[0];
const CLIENT = (process.argv.find((a) => a.startsWith('--client='))?.split('=')[1] ?? process.env.QUEUE_CLIENT ?? 'lite') as 'lite' | 'ws';

const mb = (b: number) => (b / 2 ** 20).toFixed(1);
/**
 * The process's anonymous memory with the V8 heap counted at its live size (just after full GCs): what
 * sockets add. Left out: file pages (the node binary, shared and evictable) and the V8 heap's resident
 * but empty pages (a young generation of 1-32 MB and free old-space pages, sized by the allocation rate
 * and released when V8's memory reducer runs, which an idle gateway does and a busy one does not).
 */
const steady = (r: GcReading) => r.rssAnon - r.v8Resident + r.v8Used;
/** Native memory: anonymous memory outside the V8 heap (uWS sockets, malloc). */
const native = (r: GcReading) => r.rssAnon - r.v8Resident;
/**
 * A reading after full GCs, at least three a second apart, until the two lowest agree within 1 MB (or
 * `maxMs` is up); the lowest. What is in flight at the moment (a heartbeat's 18,000 user ids, Redis replies,
 * a background job) is live too and only ever adds to a reading, by a few MB and now and then by tens of MB
 * on the gateway that runs the background work; the lowest of several readings is the gateway without it.
 */
async function stableReading(pid: number, maxMs: number): Promise<GcReading & { readings: number }> {
  const until = Date.now() + maxMs;
  const readings = [await gcReading(pid, gcDir)];
  for (;;) {
    await sleep(1000);
    readings.push(await gcReading(pid, gcDir));
    const sorted = [...readings].sort((x, y) => steady(x) - steady(y));
    if ((readings.length >= 3 && steady(sorted[1]) - steady(sorted[0]) < 2 ** 20) || Date.now() > until) return { ...sorted[0], readings: readings.length };
  }
}
/**
 * With --snapshots (env QUEUE_SNAPSHOTS=1): a heap snapshot of gateway 0 (the one with the background work)
 * at a reading, written to the gc directory's `snapshots/` (kept; summarise two with bench/queue-heap.ts).
 */
const SNAPSHOTS = process.argv.includes('--snapshots') || process.env.QUEUE_SNAPSHOTS === '1';
async function heapSnapshot(pid: number, label: string): Promise<string> {
  const dir = join(tmpdir(), `bench-queue-snapshots-${id}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${label}-${pid}.heapsnapshot`);
  writeFileSync(`${gcDir}/snapshot-${pid}.req`, file);
  await gcReading(pid, gcDir, 120_000);
  while (existsSync(`${gcDir}/snapshot-${pid}.req`)) await sleep(500);
  log(`heap snapshot ${file}`);
  return file;
}
/** How long after start-up the baseline is read (see the baseline). */
const WARM_UP_MS = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : null;
};
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * p) - 1))];
const log = (...a: unknown[]) => console.log(`[bench:queue ${new Date().toISOString().slice(11, 19)}]`, ...a);

await useServices('queue');
const redisUrl = process.env.REDIS_URL!;
const databaseUrl = process.env.DATABASE_URL!;
const id = randomBytes(3).toString('hex');
const gcDir = mkdtempSync(join(tmpdir(), 'bench-queue-gc-'));
const env = {
  ...process.env,
  NODE_ENV: 'production',
  REDIS_URL: redisUrl,
  DATABASE_URL: databaseUrl,
  REDIS_PREFIX: `bq${id}:`,
  DB_SCHEMA: `bench_queue_${id}`,
  ADMIN_API_KEY: `bench-admin-${id}`,
  TOKEN_SECRET: randomBytes(24).toString('hex'),
  LOG_LEVEL: 'warn',
  QUEUE_GC_DIR: gcDir,
  ...(PROBE ? { QUEUE_PROBE_DIR: PROBE } : {}),
  MAX_CONNECTIONS_PER_IP: String(SHOPPERS * 2),
};
const config = loadConfig(env);
const ctx = createContext(config);
const gateways: GatewayProc[] = [];
const clients: ChildProcess[] = [];

function waitFor<T>(child: ChildProcess, type: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`client did not send ${type} within ${timeoutMs} ms`)), timeoutMs);
    const onMsg = (m: { type: string }) => {
      if (m.type !== type) return;
      clearTimeout(timer);
      child.off('message', onMsg);
      resolve(m as T);
    };
    child.on('message', onMsg);
  });
}

async function admin(method: string, path: string, body: unknown) {
  const res = await fetch(gateways[0].url + path, {
    method,
    headers: { authorization: `Bearer ${env.ADMIN_API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function run() {
  log(`scale: ${SHOPPERS} shoppers, ${GATEWAYS} gateways, ${CLIENTS} client processes, ${TICKS} ticks of ${BATCH} every ${INTERVAL_MS} ms`);
  await migrate(ctx.db, config.dbSchema);
  const { rows } = await ctx.db.query<{ id: string }>(
    `INSERT INTO users (email, password_hash) SELECT 'bench-' || g || '@queue.bench', 'bench' FROM generate_series(1, $1::int) g RETURNING id`,
    [SHOPPERS],
  );
  const userIds = rows.map((r) => String(r.id));

  for (let i = 0; i < GATEWAYS; i++) gateways.push(await startGateway(i, env, BACKGROUND === 'all' || i === 0));
  log('gateways up:', gateways.map((g) => `${g.url} pid ${g.pid} nofile ${openFilesLimit(g.pid)}`).join(', '));

  mark('gatewaysUp');
  // Every gateway gives back about 11 MB of start-up memory (native, outside the V8 heap) 15-20 s after it
  // starts, with or without background work; a baseline read before that came out 11 MB too high.
  await sleep(Math.max(0, marks.gatewaysUp + WARM_UP_MS - Date.now()));
  const rssBefore = await Promise.all(gateways.map((g) => settledRss(g.pid, 6000, 30_000)));
  const gcBefore = await Promise.all(gateways.map((g) => stableReading(g.pid, 30_000)));
  mark('baseline');
  log('baseline (MB), settled VmRSS / anonymous with the V8 heap at its live size:', gateways.map((_, i) => `${mb(rssBefore[i])} / ${mb(steady(gcBefore[i]))} (${gcBefore[i].readings} readings)`).join(', '));

  const product = await admin('POST', '/admin/products', { sku: `BENCH-Q-${id}`, name: 'Bench sneaker', priceCents: 9900, stock: 1_000_000 });
  const startsAt = Date.now() + START_IN * 1000;
  const sale = await admin('POST', '/admin/sales', {
    productId: product.id,
    quantity: 1_000_000,
    priceCents: 4900,
    startsAt: new Date(startsAt).toISOString(),
    endsAt: new Date(startsAt + 30 * 60_000).toISOString(),
    perUserLimit: 1,
    holdSeconds: 600,
    waitingRoom: true,
    admission: { batchSize: BATCH, intervalMs: INTERVAL_MS },
  });
  const saleId = String(sale.id);
  // The tick's reference time: when the ticker's broadcast reaches a subscriber (this process, idle).
  const published = new Map<string, number>();
  const sub = ctx.newRedis('subscriber');
  await sub.subscribe(`${config.redisPrefix}wr:broadcast`);
  sub.on('message', (_channel: string, message: string) => {
    const at = Date.now();
    const head = `${saleId}|tick|`;
    if (!message.startsWith(head)) return;
    const tick = JSON.parse(message.slice(head.length)) as { serving?: number };
    if (typeof tick.serving === 'number' && !published.has(String(tick.serving))) published.set(String(tick.serving), at);
  });
  const gwCpu = () => gateways.reduce((a, g) => a + cpuSeconds(g.pid), 0);
  const gwSys = () => gateways.reduce((a, g) => a + cpuSeconds(g.pid, 'sys'), 0);
  const cpuJoinStart = gwCpu();
  const sysJoinStart = gwSys();

  // Join phase: every client process opens its share of sockets, in blocks per gateway (gatewayOf).
  mark('joinStart');
  const per = Math.ceil(SHOPPERS / CLIENTS);
  for (let w = 0; w < CLIENTS; w++) {
    // like the gateways: the open-files soft limit raised to the hard one first (`exec` keeps the pid; the
    // IPC channel passes through the shell to node)
    const child = spawn('sh', ['-c', 'ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"', process.execPath, '--import', 'tsx', '--max-old-space-size=2048', fileURLToPath(new URL('./queue-client.ts', import.meta.url))], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    clients.push(child);
    await sleep(300);
    const limit = openFilesLimit(child.pid!);
    if (limit !== null && limit < per + 200) throw new Error(`client process ${w} may open ${limit} files, fewer than its ${per} sockets: raise the hard limit (ulimit -Hn) or add --clients`);
    const job: ClientJob = {
      worker: w,
      gateways: gateways.map((g) => g.url.replace('http:', 'ws:')),
      offset: w * per,
      shoppers: SHOPPERS,
      saleId,
      userIds: userIds.slice(w * per, (w + 1) * per),
      tokenSecret: env.TOKEN_SECRET,
      concurrency: CONCURRENCY,
      client: CLIENT,
      pauseAt: Math.floor(per / 2),
      headBound: HEAD_BOUND,
      // No own source address: bind-before-connect on loopback made the kernel's port search the
      // bottleneck (500 joins/s against 1,500 without it).
    };
    child.send({ cmd: 'start', job });
  }
  const progress = new Map<ChildProcess, number>();
  for (const c of clients) c.on('message', (m: { type: string; joined?: number }) => m.type === 'progress' && progress.set(c, m.joined ?? 0));
  const ticker = setInterval(() => log(`joined ${[...progress.values()].reduce((a, b) => a + b, 0)} / ${SHOPPERS}`), 5000);
  // Half-way, every client process waits while the gateways' memory is read (the per-socket figure is the
  // growth from there to everyone connected: start-up memory and heap sizing cancel out).
  await Promise.all(clients.map((c) => waitFor<{ at: number }>(c, 'half', 10 * 60_000)));
  const pauseCpu = gwCpu();
  const pauseSys = gwSys();
  mark('half');
  await Promise.all(gateways.map((g) => settledRss(g.pid, 3000, 10_000)));
  const gcHalf = await Promise.all(gateways.map((g) => stableReading(g.pid, 30_000)));
  const snapshots: string[] = [];
  if (SNAPSHOTS) snapshots.push(await heapSnapshot(gateways[0].pid, 'half'));
  const pausedCpu = gwCpu() - pauseCpu;
  const pausedSys = gwSys() - pauseSys;
  for (const c of clients) c.send({ cmd: 'resume' });
  const ready = await Promise.all(
    clients.map((c) =>
      waitFor<{ joined: number; failed: number; startedAt: number; halfAt: number; resumedAt: number; endedAt: number; joinP50: number; joinP99: number; cpuSeconds: number; sysSeconds: number }>(c, 'ready', 10 * 60_000),
    ),
  );
  clearInterval(ticker);
  mark('joined');
  // From the first handshake anywhere to the last `queued` (forking and loading the clients excluded), without the pause.
  const joinSeconds =
    (Math.max(...ready.map((r) => r.halfAt)) - Math.min(...ready.map((r) => r.startedAt)) + Math.max(...ready.map((r) => r.endedAt)) - Math.min(...ready.map((r) => r.resumedAt))) / 1000;
  const cpuJoin = {
    gateways: +(gwCpu() - cpuJoinStart - pausedCpu).toFixed(2),
    gatewaysKernel: +(gwSys() - sysJoinStart - pausedSys).toFixed(2),
    clients: +ready.reduce((a, r) => a + r.cpuSeconds, 0).toFixed(2),
    clientsKernel: +ready.reduce((a, r) => a + r.sysSeconds, 0).toFixed(2),
  };
  const joined = ready.reduce((a, r) => a + r.joined, 0);
  const failed = ready.reduce((a, r) => a + r.failed, 0);
  log(`joined ${joined} (${failed} failed) in ${joinSeconds.toFixed(1)} s: ${Math.round(joined / joinSeconds)} joins/s`);

  // Idle memory: the sale has not started, so nothing is sent; RSS once it has settled, before the start.
  const idleCpuStart = gwCpu();
  const idleCpuStartEach = gateways.map((g) => cpuSeconds(g.pid));
  const idleStart = Date.now();
  const rssAfter = await Promise.all(gateways.map((g) => settledRss(g.pid, 6000, Math.max(6000, startsAt - Date.now() - 6000))));
  const idleCpuPerSecond = (gwCpu() - idleCpuStart) / ((Date.now() - idleStart) / 1000);
  const idleCpuPerSecondEach = gateways.map((g, i) => +((cpuSeconds(g.pid) - idleCpuStartEach[i]) / ((Date.now() - idleStart) / 1000)).toFixed(3));
  if (Date.now() > startsAt) log('warning: the join phase outlasted the start; raise --startIn for a clean idle measurement');
  const socketsPer = gateways.map((_, i) => Array.from({ length: SHOPPERS }, (_, k) => k).filter((k) => gatewayOf(k, SHOPPERS, GATEWAYS) === i).length);
  const gcAfter = await Promise.all(gateways.map((g) => stableReading(g.pid, Math.max(5000, startsAt - Date.now() - 8000))));
  if (SNAPSHOTS) snapshots.push(await heapSnapshot(gateways[0].pid, 'all'));
  mark('idleRead');
  if (Date.now() > startsAt) log('warning: the memory reading outlasted the start; raise --startIn');
  // Per socket (see `steady` and bench/queue-gc.ts): the growth from half-way to everyone connected, and
  // the same readings counted other ways.
  const socketsHalf = gateways.map(() => 0);
  for (let w = 0; w < CLIENTS; w++) {
    for (let k = w * per; k < Math.min(SHOPPERS, w * per + Math.floor(per / 2)); k++) socketsHalf[gatewayOf(k, SHOPPERS, GATEWAYS)] += 1;
  }
  const growth = (f: (r: GcReading) => number, from: GcReading[], n: number[]) => gateways.map((_, i) => (n[i] > 0 ? (f(gcAfter[i]) - f(from[i])) / n[i] : NaN));
  const secondHalf = socketsPer.map((n, i) => n - socketsHalf[i]);
  const perSocket = growth(steady, gcHalf, secondHalf);
  const perSocketJs = growth((r) => r.v8Used, gcHalf, secondHalf);
  const perSocketNative = growth(native, gcHalf, secondHalf);
  const perSocketRssHalf = growth((r) => r.rss, gcHalf, secondHalf);
  const perSocketFromStart = growth(steady, gcBefore, socketsPer);
  const perSocketRssGc = growth((r) => r.rss, gcBefore, socketsPer);
  const perSocketRaw = gateways.map((_, i) => (rssAfter[i] - rssBefore[i]) / socketsPer[i]);
  const show = (xs: number[]) => xs.map((b) => Math.round(b)).join(', ');
  log(`readings after full GCs (before, half-way, after): ${gateways.map((_, i) => `${gcBefore[i].readings}/${gcHalf[i].readings}/${gcAfter[i].readings}`).join(', ')}`);
  log(`bytes per socket, half-way to all: ${show(perSocket)} (JS ${show(perSocketJs)}; native ${show(perSocketNative)}; VmRSS ${show(perSocketRssHalf)})`);
  log(`bytes per socket, from none to all: ${show(perSocketFromStart)}; VmRSS after GCs ${show(perSocketRssGc)}; settled VmRSS, no GC ${show(perSocketRaw)}`);

  // The start: the shuffle hands every pre-start shopper a ticket. Then the tick phase.
  const tickets = new Map<ChildProcess, number>();
  for (const c of clients) c.on('message', (m: { type: string; ticketed?: number }) => m.type === 'progress' && tickets.set(c, m.ticketed ?? 0));
  const shuffleStart = Date.now();
  mark('start');
  for (;;) {
    await sleep(500);
    const got = [...tickets.values()].reduce((a, b) => a + b, 0);
    if (got >= joined || Date.now() - shuffleStart > 120_000) break;
  }
  const ticketedAfterMs = Math.max(0, Date.now() - Math.max(startsAt, shuffleStart));
  log(`every shopper has a ticket ${ticketedAfterMs} ms after the start`);
  const cpuTickStart = gwCpu();
  const boxTickStart = boxBusySeconds();
  const cpuTickStartEach = gateways.map((g) => cpuSeconds(g.pid));
  const sysTickStart = gwSys();
  const tickStart = Date.now();
  for (const c of clients) c.send({ cmd: 'measure' });
  await sleep(TICKS * INTERVAL_MS + 1500);
  const reports = await Promise.all(
    clients.map((c) => {
      const p = waitFor<{ ticks: TickSeen[]; pings: number[]; open: number; waiting: number; admitted: number; counts: Record<string, number>; cpuSeconds: number; sysSeconds: number; base: number; arrivals: number[][] }>(c, 'report', 60_000);
      c.send({ cmd: 'report' });
      return p;
    }),
  );
  const tickSeconds = (Date.now() - tickStart) / 1000;
  const cpuTicks = {
    gateways: +(gwCpu() - cpuTickStart).toFixed(2),
    gatewaysKernel: +(gwSys() - sysTickStart).toFixed(2),
    clients: +reports.reduce((a, r) => a + r.cpuSeconds, 0).toFixed(2),
    clientsKernel: +reports.reduce((a, r) => a + r.sysSeconds, 0).toFixed(2),
    wallSeconds: +tickSeconds.toFixed(2),
    perGateway: gateways.map((g, i) => +(cpuSeconds(g.pid) - cpuTickStartEach[i]).toFixed(2)),
    /** Everything else on the box meanwhile: Redis, this process, Postgres, kernel threads, softirq time not charged to a process, anyone else's work. */
    restOfBox: 0,
  };
  cpuTicks.restOfBox = +(boxBusySeconds() - boxTickStart - cpuTicks.gateways - cpuTicks.clients).toFixed(2);
  const waiting = reports.reduce((a, r) => a + r.waiting, 0);
  const open = reports.reduce((a, r) => a + r.open, 0);
  // The tick's own time: the tick script's Redis clock (TIME, the same clock as Date.now on this box), kept
  // per tick as "<ms>:<serving>" in the sale's rate samples. The publish seen by this process comes a few ms later.
  const decided = new Map<string, number>();
  for (const sample of await ctx.redis.lrange(queueKeys(config.redisPrefix, saleId).rate, 0, -1)) {
    const [at, serving] = sample.split(':');
    decided.set(serving, Number(at));
  }
  const merged = new Map<string, { serverTs: number | null; byGateway: number[][]; head: number[]; headExpected: number }>();
  for (const r of reports) {
    for (const t of r.ticks) {
      const m = merged.get(t.key) ?? { serverTs: t.serverTs ?? null, byGateway: gateways.map(() => []), head: [], headExpected: 0 };
      t.byGateway.forEach((a, g) => {
        for (const x of a) m.byGateway[g].push(x);
      });
      for (const x of t.head) m.head.push(x);
      m.headExpected += t.headExpected;
      merged.set(t.key, m);
    }
  }
  const stats = (arrivals: number[], ref: number) => {
    const lat = arrivals.map((a) => a - ref).sort((a, b) => a - b);
    return { firstMs: lat[0], p50Ms: pct(lat, 0.5), p99Ms: pct(lat, 0.99), maxMs: lat[lat.length - 1] };
  };
  /** The p-th percentile over `expected` sockets of which only `arrivals` got it (the others count as never: null). */
  const pctOf = (arrivals: number[], ref: number, expected: number, p: number) => {
    const lat = arrivals.map((a) => a - ref).sort((x, y) => x - y);
    const i = Math.max(0, Math.ceil(Math.max(expected, lat.length) * p) - 1);
    return i < lat.length ? lat[i] : null;
  };
  const tickStats = [...merged.entries()]
    .map(([key, m]) => {
      const all = m.byGateway.flat().sort((a, b) => a - b);
      const tickAt = m.serverTs ?? decided.get(key);
      const pub = published.get(key);
      const [ref, reference] =
        tickAt !== undefined ? [tickAt, 'tick on Redis clock'] : pub !== undefined ? [pub, 'ticker publish on Redis'] : [all[0], 'first arrival'];
      return {
        key,
        reference,
        at: ref,
        /** Frames of this tick (every tier). */
        frames: all.length,
        headExpected: m.headExpected,
        headGot: m.head.length,
        headP50Ms: pctOf(m.head, ref, m.headExpected, 0.5),
        headP99Ms: pctOf(m.head, ref, m.headExpected, 0.99),
        publishedAfterMs: pub !== undefined && tickAt !== undefined ? pub - tickAt : null,
        /** Every frame of the tick (all tiers): when the last of them was read. */
        allFrames: all.length ? stats(all, ref) : null,
        /** Server pings that reached clients between the tick and the last frame of its head tier. */
        pingsDuring: reports.reduce((a, r) => a + r.pings.filter((p) => p >= ref && p <= ref + (pctOf(m.head, ref, m.headExpected, 0.99) ?? 0)).length, 0),
        byGateway: m.byGateway.map((a) => (a.length ? stats(a, ref) : null)),
      };
    })
    // Only whole ticks count: the first and the last may be cut by the window.
    .filter((t) => t.headExpected > 0 && t.headGot >= t.headExpected * 0.9)
    .sort((x, y) => x.at - y.at);
  // Refreshes: every socket still waiting at the end, every broadcast it got while measuring.
  const reportAt = Math.min(...reports.map((r) => r.base + (TICKS * INTERVAL_MS + 1500)));
  const bySocket = reports.flatMap((r) => r.arrivals.map((xs) => xs.map((x) => x + r.base).sort((p, q) => p - q)));
  const gaps: number[] = [];
  for (const xs of bySocket) for (let i = 1; i < xs.length; i++) gaps.push(xs[i] - xs[i - 1]);
  gaps.sort((x, y) => x - y);
  /** From a tick: until 99% of the waiting sockets had a refresh (only ticks with 1.5 x MAX_REFRESH_MS of window after them). */
  const coverage = tickStats
    .filter((t) => t.at + MAX_REFRESH_MS * 1.5 <= reportAt)
    .map((t) => {
      const firsts = bySocket.map((xs) => xs.find((x) => x >= t.at)).filter((x): x is number => x !== undefined);
      return { key: t.key, p99Ms: pctOf(firsts, t.at, bySocket.length, 0.99), maxMs: firsts.length === bySocket.length ? Math.max(...firsts) - t.at : null, sockets: bySocket.length };
    });
  const col = (f: (t: (typeof tickStats)[number]) => number | null | undefined) => median(tickStats.map(f).filter((x): x is number => typeof x === 'number'));
  const result = {
    name: 'queue',
    date: new Date().toISOString(),
    machine: { cores: (await import('node:os')).cpus().length },
    scale: { shoppers: SHOPPERS, gateways: GATEWAYS, clientProcesses: CLIENTS, startInSeconds: START_IN, ticks: TICKS, intervalMs: INTERVAL_MS, batchSize: BATCH, handshakeConcurrency: CONCURRENCY, client: CLIENT, background: BACKGROUND },
    shuffle: { ticketedWithinMs: ticketedAfterMs, note: 'from startsAt until every client held its ticket (0.5 s polling)' },
    join: { joined, failed, seconds: +joinSeconds.toFixed(2), joinsPerSecond: Math.round(joined / joinSeconds), latencyP50Ms: median(ready.map((r) => r.joinP50)), latencyP99Ms: median(ready.map((r) => r.joinP99)) },
    sockets: { open, waiting, admitted: reports.reduce((a, r) => a + r.admitted, 0), perGateway: socketsPer },
    ticks: {
      measured: tickStats.length,
      reference: tickStats[0]?.reference ?? null,
      headBound: HEAD_BOUND,
      /** Per tick: until 99% (50%) of the sockets in the head tier (1..headBound places behind) had the broadcast. */
      headP99MsMedian: col((t) => t.headP99Ms),
      headP99MsWorst: tickStats.length ? Math.max(...tickStats.map((t) => t.headP99Ms ?? Infinity)) : null,
      headP50MsMedian: col((t) => t.headP50Ms),
      headSocketsMedian: col((t) => t.headExpected),
      /** Frames per tick over every tier, and when the last of them was read. */
      framesMedian: col((t) => t.frames),
      allFramesP99MsMedian: col((t) => t.allFrames?.p99Ms),
      /** From the tick script's clock to this process receiving the publish (grants issued and published first). */
      publishedAfterMsMedian: col((t) => t.publishedAfterMs),
      byGateway: gateways.map((_, g) => ({
        firstMsMedian: col((t) => t.byGateway[g]?.firstMs),
        p99MsMedian: col((t) => t.byGateway[g]?.p99Ms),
      })),
      each: tickStats,
    },
    refreshes: {
      sockets: bySocket.length,
      /** From a tick until 99% of all waiting sockets had a refresh (per tick with enough window after it). */
      allP99MsMedian: median(coverage.map((c) => c.p99Ms ?? Infinity)),
      allP99MsWorst: coverage.length ? Math.max(...coverage.map((c) => c.p99Ms ?? Infinity)) : null,
      allMaxMsWorst: coverage.length ? Math.max(...coverage.map((c) => c.maxMs ?? Infinity)) : null,
      each: coverage,
      /** The time between two refreshes of one socket, over every socket. */
      gaps: gaps.length ? { count: gaps.length, p50Ms: pct(gaps, 0.5), p99Ms: pct(gaps, 0.99), maxMs: gaps[gaps.length - 1] } : null,
    },
    memory: {
      method:
        'per gateway, read with half of its sockets connected (the client processes wait) and with all of them (idle, before the start), each right after two full GCs in the gateway (bench/queue-gc.ts): anonymous resident memory (RssAnon) with the V8 heap counted at its live size; the growth divided by the sockets added',
      bytesPerSocket: perSocket.map(Math.round),
      bytesPerSocketMedian: Math.round(median(perSocket) ?? 0),
      bytesPerSocketMax: Math.round(Math.max(...perSocket.filter(Number.isFinite))),
      /** Of which live JS objects (V8 heap used after GC) and native memory (anonymous memory outside the V8 heap: uWS, malloc). */
      jsBytesPerSocket: perSocketJs.map(Math.round),
      nativeBytesPerSocket: perSocketNative.map(Math.round),
      /** The same readings as plain VmRSS (file pages and the V8 heap's empty resident pages counted). */
      vmRssHalfToAll: perSocketRssHalf.map(Math.round),
      /** From no sockets (30 s after start-up) to all, same counting as bytesPerSocket, and as plain VmRSS. */
      fromNone: perSocketFromStart.map(Math.round),
      vmRssFromNone: perSocketRssGc.map(Math.round),
      /** The earlier method: lowest VmRSS once it stopped falling, no GC forced (depends on when V8 last collected). */
      settledVmRssNoGc: perSocketRaw.map(Math.round),
      sockets: { half: socketsHalf, all: socketsPer },
      before: gcBefore,
      half: gcHalf,
      after: gcAfter,
      rssSettledBeforeBytes: rssBefore,
      rssSettledAfterBytes: rssAfter,
      /** With --snapshots: heap snapshots of gateway 0 at the half-way and the all-connected readings (bench/queue-heap.ts). */
      snapshots,
    },
    cpuSeconds: {
      join: { ...cpuJoin, wallSeconds: +joinSeconds.toFixed(2) },
      ticks: cpuTicks,
      /** CPU seconds per admission tick (the window over the tick interval), gateways and clients apart. */
      perTick: {
        gateways: +(cpuTicks.gateways / (cpuTicks.wallSeconds * 1000 / INTERVAL_MS)).toFixed(3),
        clients: +(cpuTicks.clients / (cpuTicks.wallSeconds * 1000 / INTERVAL_MS)).toFixed(3),
      },
      /** Gateways with everyone connected and nothing sent (background loops, pings): CPU seconds per second. */
      gatewaysIdlePerSecond: +idleCpuPerSecond.toFixed(3),
      gatewaysIdlePerSecondEach: idleCpuPerSecondEach,
    },
    messages: reports.reduce<Record<string, number>>((acc, r) => {
      for (const [k, v] of Object.entries(r.counts)) acc[k] = (acc[k] ?? 0) + v;
      return acc;
    }, {}),
    targets: {
      socketsPerGateway: { target: 18_000, got: Math.min(...socketsPer), met: Math.min(...socketsPer) >= 18_000 && failed === 0 },
      queuedShoppers: { target: SHOPPERS, got: joined, met: joined >= SHOPPERS },
      headTickP99Ms: { target: 200, got: col((t) => t.headP99Ms), worst: tickStats.length ? Math.max(...tickStats.map((t) => t.headP99Ms ?? Infinity)) : null, met: tickStats.every((t) => (t.headP99Ms ?? Infinity) <= 200) && tickStats.length > 0 },
      allRefreshedP99Ms: { target: 5000, got: median(coverage.map((c) => c.p99Ms ?? Infinity)), met: coverage.length > 0 && coverage.every((c) => (c.p99Ms ?? Infinity) <= 5000) },
      refreshGapP99Ms: { target: 5000, got: gaps.length ? pct(gaps, 0.99) : null, met: gaps.length > 0 && pct(gaps, 0.99) <= 5000 },
      /** On every gateway: the highest of the three, half-way to all (memory.bytesPerSocketMax). */
      bytesPerIdleSocket: { target: 4096, got: Math.round(Math.max(...perSocket.filter(Number.isFinite))), met: Math.max(...perSocket.filter(Number.isFinite)) <= 4096 },
    },
  };
  const t = result.targets;
  writeResults('queue', result, [
    `${gateways.length} gateways, ${joined.toLocaleString('en-US')} queued shoppers, ${tickStats.length} measured admission ticks.`,
    '',
    '| measure | target | got | met |',
    '| --- | --- | --- | --- |',
    `| sockets per gateway | ${t.socketsPerGateway.target} | ${t.socketsPerGateway.got} | ${t.socketsPerGateway.met ? 'yes' : 'no'} |`,
    `| queued shoppers | ${t.queuedShoppers.target} | ${t.queuedShoppers.got} | ${t.queuedShoppers.met ? 'yes' : 'no'} |`,
    `| head tier has the tick, 99% (median tick; worst) | ${t.headTickP99Ms.target} ms | ${t.headTickP99Ms.got} ms; ${t.headTickP99Ms.worst} ms | ${t.headTickP99Ms.met ? 'yes' : 'no'} |`,
    `| all waiting sockets refreshed, 99% (median tick) | ${t.allRefreshedP99Ms.target} ms | ${t.allRefreshedP99Ms.got} ms | ${t.allRefreshedP99Ms.met ? 'yes' : 'no'} |`,
    `| gap between refreshes, p99 | ${t.refreshGapP99Ms.target} ms | ${t.refreshGapP99Ms.got} ms | ${t.refreshGapP99Ms.met ? 'yes' : 'no'} |`,
    `| CPU seconds per tick, gateways / clients | - | ${result.cpuSeconds.perTick.gateways} / ${result.cpuSeconds.perTick.clients} | |`,
    `| memory per idle socket (highest gateway) | ${t.bytesPerIdleSocket.target} B | ${t.bytesPerIdleSocket.got} B | ${t.bytesPerIdleSocket.met ? 'yes' : 'no'} |`,
  ]);
  if (PROBE) writeFileSync(`${PROBE}/marks.json`, JSON.stringify({ marks, gateways: gateways.map((g) => ({ pid: g.pid, background: BACKGROUND === 'all' || g.index === 0 })), gcBefore, gcHalf, gcAfter, rssBefore, rssAfter }, null, 2));
  log('CPU seconds (gateways, clients):', JSON.stringify(result.cpuSeconds));
  log(`ticks: ${tickStats.length} measured (${result.ticks.reference}); head tier (${result.ticks.headSocketsMedian} sockets) p50 ${result.ticks.headP50MsMedian} ms, p99 ${result.ticks.headP99MsMedian} ms (median), worst ${result.ticks.headP99MsWorst} ms; ${result.ticks.framesMedian} frames per tick, last read ${result.ticks.allFramesP99MsMedian} ms (p99); published ${result.ticks.publishedAfterMsMedian} ms after the tick`);
  log(`per tick head p99: ${tickStats.map((t) => t.headP99Ms).join(', ')}`);
  log(`refreshes: 99% of ${bySocket.length} waiting sockets refreshed within ${result.refreshes.allP99MsMedian} ms of a tick (median of ${coverage.length}; worst ${result.refreshes.allP99MsWorst}); gap between refreshes p50 ${result.refreshes.gaps?.p50Ms} / p99 ${result.refreshes.gaps?.p99Ms} / max ${result.refreshes.gaps?.maxMs} ms`);
  log('by gateway (first/p99 ms, every frame):', result.ticks.byGateway.map((g) => `${g.firstMsMedian}/${g.p99MsMedian}`).join(', '));
  log('targets:', JSON.stringify(result.targets));
  log('wrote bench/results/queue.json and queue.md');
}

async function cleanup() {
  await Promise.all(
    clients.map(async (c) => {
      if (c.exitCode !== null) return;
      c.send({ cmd: 'close' });
      await Promise.race([new Promise((r) => c.once('exit', r)), sleep(5000)]);
      if (c.exitCode === null) c.kill('SIGKILL');
    }),
  );
  const t = Date.now();
  await Promise.all(gateways.map(stopGateway));
  log(`gateways stopped in ${Date.now() - t} ms`);
  await ctx.close();
  await dropWorld(config);
  rmSync(gcDir, { recursive: true, force: true });
  log(`cleaned up in ${Date.now() - t} ms`);
}

try {
  await run();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await cleanup();
}
process.exit();
