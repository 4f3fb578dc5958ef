/**
 * `npm run demo [-- --shoppers N] [-- --opens-in S]`: a whole flash sale, simulated, with a report.
 *
 * Uses a running `npm start` of this data dir (or starts the engine), seeds a small catalog, schedules a
 * flash sale with a waiting room that opens S seconds later (20 by default), prints the shopper page and
 * the merchant console, then runs N simulated shoppers (2,000 by default) through the real WebSocket and
 * HTTP API (scripts/demo/shopper.ts). At the end it checks the invariants, writes
 * reports/demo-<time>/report.html (self-contained, inline SVG charts) and summary.json, and exits 1 when an
 * invariant failed. docs/demo.md describes what the shoppers do and what is checked.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Agent } from 'undici';
import { issueUserToken } from '../infra/auth.js';
import { loadConfig } from '../infra/config.js';
import { createContext, type Context } from '../infra/context.js';
import { migrate } from '../infra/migrate.js';
import { ensureServices, type Services } from '../infra/services.js';
import { failed, oneLine, onStopSignal, within } from '../infra/shutdown.js';
import { bumpGeneration, createSearchBackend } from '../storefront/index.js';
import { seedCatalog } from './seed-catalog.js';
import { findOrStartEngine, type DemoEngine } from './demo/engine.js';
import { checkInvariants } from './demo/checks.js';
import { charts, percentiles, reportHtml, type Sample, type Summary } from './demo/report.js';
import { Journal, runShopper, type Outcome, type Plan, type Step } from './demo/shopper.js';

function usage(problem: string): never {
  process.stderr.write(`${problem}\nusage: npm run demo [-- --shoppers N (1-20,000; default 2,000)] [-- --opens-in S (5-300 s; default 20)]\n`);
  process.exit(2);
}
let values: { shoppers: string; 'opens-in': string };
try {
  values = parseArgs({ options: { shoppers: { type: 'string', default: '2000' }, 'opens-in': { type: 'string', default: '20' } } }).values as typeof values;
} catch (err) {
  usage((err as Error).message);
}
const SHOPPERS = Number(values.shoppers);
const OPENS_IN_S = Number(values['opens-in']);
if (!Number.isInteger(SHOPPERS) || SHOPPERS < 1 || SHOPPERS > 20_000) usage(`--shoppers must be a whole number from 1 to 20,000, got "${values.shoppers}"`);
if (!Number.isInteger(OPENS_IN_S) || OPENS_IN_S < 5 || OPENS_IN_S > 300) usage(`--opens-in must be whole seconds from 5 to 300, got "${values['opens-in']}"`);

const dataDir = process.env.DATA_DIR ?? '.data';
const startedAt = new Date();
const reportDir = `reports/demo-${startedAt.toISOString().replace(/[:.]/g, '-')}`;
const say = (m: string) => process.stderr.write(`${m}\n`);
let services: Services | undefined;
let ctx: Context | undefined;
let engine: DemoEngine | undefined;

onStopSignal(async () => {
  await within(30_000, 'the engine', async () => engine?.stop());
  await within(5_000, 'connections', async () => ctx?.close());
  await services?.stop();
}, 60_000);

/** A small deterministic random source, so two runs with the same N make the same crowd. */
function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The crowd: when each shopper comes, who walks away, and which cards they pay with. */
function makePlans(n: number, opensInMs: number, withTimeoutCard: boolean): Plan[] {
  const rnd = mulberry32(n);
  const firstCards: Array<[string, number]> = [['pm_card_ok', 0.52], ['pm_card_visa', 0.1], ['pm_card_mastercard', 0.08], ['pm_card_declined', 0.18], ['pm_card_flaky', 0.08], [withTimeoutCard ? 'pm_card_timeout' : 'pm_card_ok', 0.04]];
  const pick = () => {
    let r = rnd();
    for (const [card, w] of firstCards) if ((r -= w) < 0) return card;
    return 'pm_card_ok';
  };
  return Array.from({ length: n }, () => {
    const early = rnd() < 0.7;
    const joinAtMs = early ? rnd() * Math.max(0, opensInMs - 3_000) : opensInMs + rnd() * 8_000;
    const r = rnd();
    const card = pick();
    const cards = card === 'pm_card_declined' && rnd() < 0.6 ? [card, rnd() < 0.5 ? 'pm_card_ok' : 'pm_card_mastercard'] : [card];
    return {
      joinAtMs,
      leaveQueueAfterMs: r < 0.06 ? 2_000 + rnd() * 10_000 : undefined,
      leaveHold: r >= 0.06 && r < 0.12 ? (rnd() < 0.5 ? 'release' : 'expire') : undefined,
      cards,
      thinkMs: 200 + rnd() * 1_300,
    } satisfies Plan;
  });
}

async function admin(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(engine!.url + path, {
    method,
    headers: { authorization: `Bearer ${engine!.adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => undefined);
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

try {
  mkdirSync(reportDir, { recursive: true });
  services = await ensureServices({ dataDir, command: 'npm run demo' });
  const config = loadConfig({ ...process.env, REDIS_URL: services.redisUrl, DATABASE_URL: services.databaseUrl });
  ctx = createContext(config);
  await migrate(ctx.db, config.dbSchema);
  engine = await findOrStartEngine({ dataDir, env: { ...process.env, REDIS_URL: services.redisUrl, DATABASE_URL: services.databaseUrl }, logFile: `${reportDir}/engine.log`, say });

  // A small catalog, searchable at once.
  await seedCatalog(ctx.db, 1_000);
  const backend = createSearchBackend(ctx);
  await backend.reindex();
  await backend.close();
  await bumpGeneration(ctx.redis, config.redisPrefix);
  say('seeded a catalog of 1,000 products');

  // The flash sale: a fifth of the crowd's worth of units, a waiting room opening OPENS_IN_S from now.
  const quantity = Math.max(5, Math.round(SHOPPERS / 5));
  const stamp = startedAt.toISOString().replace(/\D/g, '').slice(0, 14);
  const product = await admin('POST', '/admin/products', { sku: `DEMO-${stamp}`, name: 'Demo drop: limited edition sneaker', description: 'The npm run demo flash sale', category: 'shoes', priceCents: 12_900, stock: quantity });
  const opensAt = Date.now() + OPENS_IN_S * 1000;
  const admission = { batchSize: Math.max(5, Math.ceil(quantity / 4)), intervalMs: 1_000, windowSeconds: 15 };
  const sale = await admin('POST', '/admin/sales', {
    productId: String(product.id), quantity, priceCents: 9_900, startsAt: new Date(opensAt).toISOString(), endsAt: new Date(opensAt + 30 * 60_000).toISOString(),
    perUserLimit: 1, holdSeconds: 15, waitingRoom: true, admission, queueOpensAt: new Date().toISOString(),
  });
  const saleId = String(sale.id);
  const shopperPage = `${engine.url}/sales/${saleId}`;
  const merchantConsole = `${engine.url}/admin`;
  say(`\nflash sale ${saleId}: ${quantity} units, waiting room open now, sale opens in ${OPENS_IN_S} s`);
  say(`  shopper page:     ${shopperPage}`);
  say(`  merchant console: ${merchantConsole}   (admin key: ${engine.startedHere ? engine.adminKey : 'the one your engine uses'})\n`);

  // The shoppers: accounts made in one insert, tokens signed here (registering 2,000 through the API would
  // spend a minute of scrypt). Their password hash matches no password: nobody can log in as them.
  const { rows } = await ctx.db.query<{ id: string }>(
    `INSERT INTO users (email, password_hash) SELECT 'demo-' || $1 || '-' || g || '@example.test', 'demo-account-no-login' FROM generate_series(1, $2::int) g RETURNING id`,
    [stamp, SHOPPERS],
  );
  const tokens = rows.map((r) => issueUserToken(config, String(r.id)));
  const probe = await fetch(`${engine.url}/api/orders`, { headers: { authorization: `Bearer ${tokens[0]}` } });
  if (probe.status === 401) throw new Error('the running engine refuses the demo\'s shopper tokens: start it with the same TOKEN_SECRET as this shell');

  // 40 shoppers per loopback address: the gateway allows MAX_CONNECTIONS_PER_IP (50) sockets per IP.
  const addressOf = (i: number) => `127.77.${Math.floor(Math.floor(i / 40) / 250)}.${1 + (Math.floor(i / 40) % 250)}`;
  const agents = new Map<string, Agent>();
  const agentFor = (i: number) => {
    const a = addressOf(i);
    if (!agents.has(a)) agents.set(a, new Agent({ connect: { localAddress: a }, connections: 8 }));
    return agents.get(a)!;
  };
  const journal = new Journal();
  const openOffsetMs = opensAt - journal.t0;
  const plans = makePlans(SHOPPERS, openOffsetMs, engine.startedHere);
  const cards: Record<string, number> = {};
  for (const p of plans) for (const c of p.cards) cards[c] = (cards[c] ?? 0) + 1;

  // The deadline: past it, the sale is closed (everyone still waiting is told) and the run winds down.
  let giveUpNow!: () => void;
  const giveUp = new Promise<void>((r) => (giveUpNow = r));
  const deadlineMs = OPENS_IN_S * 1000 + 120_000 + SHOPPERS * 40;
  const deadline = setTimeout(() => {
    say('\ndeadline reached: closing the sale');
    admin('POST', `/admin/sales/${saleId}/close`).catch(() => {});
    setTimeout(giveUpNow, 20_000).unref();
  }, deadlineMs);

  const samples: Sample[] = [];
  let last = { remaining: quantity, held: 0, sold: 0 };
  const tty = process.stderr.isTTY;
  let lastLine = 0;
  const sampler = setInterval(() => {
    void admin('GET', `/admin/sales/${saleId}`).then((s) => (last = s.stats)).catch(() => {});
    const t = (Date.now() - opensAt) / 1000;
    samples.push({ t, waiting: journal.waiting, remaining: last.remaining, held: last.held, sold: last.sold });
    const line = `${t < 0 ? `opens in ${Math.ceil(-t)} s` : `t+${t.toFixed(0)} s`} | waiting ${journal.waiting} | admitted ${journal.admitted} | held ${journal.held} | sold ${last.sold}/${quantity} | paid ${journal.paid} | failed ${journal.failed} | done ${journal.outcomes.size}/${SHOPPERS}`;
    if (tty) process.stderr.write(`\r${line}\x1b[K`);
    else if (Date.now() - lastLine >= 5_000) {
      lastLine = Date.now();
      say(line);
    }
  }, 500);

  const env = { url: engine.url, saleId, journal, agentFor, localAddressFor: addressOf, giveUp };
  await Promise.all(plans.map((plan, i) => runShopper(env, i, tokens[i]!, plan)));
  clearTimeout(deadline);
  clearInterval(sampler);
  last = (await admin('GET', `/admin/sales/${saleId}`)).stats;
  samples.push({ t: (Date.now() - opensAt) / 1000, waiting: journal.waiting, remaining: last.remaining, held: last.held, sold: last.sold });
  if (tty) process.stderr.write('\n');
  say(`all ${SHOPPERS.toLocaleString('en-US')} shoppers finished; checking the invariants`);

  const checks = await checkInvariants({ ctx, engineUrl: engine.url, admin, pspUrl: engine.pspUrl, saleId, quantity, journal, shoppers: SHOPPERS });
  await admin('POST', `/admin/sales/${saleId}/close`).catch(() => {});
  for (const a of agents.values()) await a.close();

  const outcomes: Partial<Record<Outcome, number>> = {};
  for (const o of journal.outcomes.values()) outcomes[o] = (outcomes[o] ?? 0) + 1;
  const latencyMs = Object.fromEntries(Object.entries(journal.latencies).map(([k, v]) => [k, percentiles(v)])) as Summary['latencyMs'];
  const summary: Summary = {
    startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), engineUrl: engine.url, shopperPage, merchantConsole,
    sale: { id: saleId, productId: String(product.id), quantity, priceCents: 9_900, startsAt: new Date(opensAt).toISOString(), holdSeconds: 15, admission },
    shoppers: SHOPPERS, reconnects: journal.reconnects, cards, outcomes, funnel: journal.funnel, latencyMs, checks, ok: checks.every((c) => c.ok), problems: journal.problems,
  };
  writeFileSync(`${reportDir}/summary.json`, JSON.stringify({ ...summary, samples }, null, 2) + '\n');
  writeFileSync(`${reportDir}/report.html`, reportHtml(summary, charts(samples, journal, openOffsetMs, summary)));

  say('');
  for (const c of checks) say(`${c.ok ? 'held  ' : 'FAILED'}  ${c.name}: ${c.detail}`);
  say(`\noutcomes: ${Object.entries(outcomes).map(([k, v]) => `${k} ${v}`).join(', ')}; queue sockets reconnected: ${journal.reconnects}`);
  const stepLine = (['join', 'reserve', 'checkout', 'settle'] as Step[]).map((s) => `${s} p50 ${latencyMs[s].p50} / p99 ${latencyMs[s].p99} ms`).join(', ');
  say(`latency: ${stepLine}`);
  say(`\nreport: ${reportDir}/report.html (and summary.json)`);

  await within(30_000, 'the engine', () => engine!.stop());
  await within(5_000, 'connections', () => ctx!.close());
  await services.stop();
  process.exit(summary.ok ? 0 : 1);
} catch (err) {
  say(`npm run demo: ${oneLine(err)}`);
  await within(30_000, 'the engine', async () => engine?.stop());
  failed('npm run demo', 'stopped');
}
