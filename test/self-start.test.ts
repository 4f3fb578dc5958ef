import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogProduct } from '../scripts/catalog-data.js';
import { pidAlive } from '../infra/services-record.js';
import { copyProject, type ProjectCopy, type RunningCommand } from './project-copy.js';

/**
 * The self-start path as a new user meets it, in temporary copies of the project with no REDIS_URL,
 * DATABASE_URL or PSP_URL: Redis and Postgres started under the copy's .data/ and shared between commands,
 * two clones side by side, a clone in a directory only root can enter, and `npm run demo`.
 */
const ADMIN = 'self-start-admin-key';
const copies: ProjectCopy[] = [];
const running: RunningCommand[] = [];
let held4010: Server | undefined;

function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

/** Takes the PSP simulator's default port, when free, so the engines must find another. */
function hold4010(): Promise<void> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res()); // taken already: all the same for the engines
    s.listen(4010, '127.0.0.1', () => {
      held4010 = s;
      res();
    });
  });
}

async function startEngine(copy: ProjectCopy, port: number): Promise<{ cmd: RunningCommand; url: string; pspUrl: string }> {
  const cmd = copy.spawn('scripts/start.ts', [], { PORT: String(port), ADMIN_API_KEY: ADMIN });
  running.push(cmd);
  const psp = await cmd.waitFor(/PSP simulator on (http:\/\/[\d.:]+)/, 180_000);
  await cmd.waitFor(/"msg":"listening on http/, 120_000);
  return { cmd, url: `http://127.0.0.1:${port}`, pspUrl: psp[1]! };
}

const record = (copy: ProjectCopy) => {
  const file = join(copy.dir, '.data', 'services.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
};

async function api(url: string, method: string, path: string, body?: unknown, token = ADMIN, headers: Record<string, string> = {}) {
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
}

async function stop(cmd: RunningCommand): Promise<number | null> {
  cmd.child.kill('SIGINT');
  return cmd.exited;
}

beforeAll(async () => {
  await hold4010();
});

afterAll(async () => {
  for (const cmd of running) if (cmd.child.exitCode === null) cmd.child.kill('SIGKILL');
  held4010?.close();
  for (const c of copies) {
    // Anything a failed test left behind: the recorded services of the copy.
    const r = record(c);
    for (const pid of [r?.redis?.pid, r?.postgres?.pid]) if (pid && pidAlive(pid)) process.kill(pid, 'SIGKILL');
    c.remove();
  }
});

describe('self-started services', () => {
  it('shared and side by side: seed runs beside a running engine on its Redis and Postgres, a second clone runs with another PORT and PSP port, and after Ctrl-C nothing of either remains', async () => {
    const a = copyProject();
    const b = copyProject();
    copies.push(a, b);
    const [portA, portB] = [await freePort(), await freePort()];
    // Engine A, seed on A and engine B start at once: whichever of A's two commands comes first starts
    // Redis and Postgres under the lock, the other attaches; seed leaves them running for the engine.
    const seed = a.spawn('scripts/seed.ts', ['--count', '500']);
    const [engineA, engineB] = await Promise.all([startEngine(a, portA), startEngine(b, portB)]);
    expect(await seed.exited, seed.output()).toBe(0);
    const before = record(a);
    expect(before.redis.pid).toBeGreaterThan(0);
    expect(before.postgres.pid).toBeGreaterThan(0);
    expect(before.users.map((u: { pid: number }) => u.pid)).toEqual([engineA.cmd.child.pid]);
    expect(a.serviceProcesses().filter((p) => p.includes('redis-server'))).toHaveLength(1);
    expect(pidAlive(before.redis.pid) && pidAlive(before.postgres.pid)).toBe(true);

    // Seed again beside the running engine: it attaches and leaves the engine's services as they were.
    const again = a.spawn('scripts/seed.ts', ['--count', '500']);
    expect(await again.exited, again.output()).toBe(0);
    const after = record(a);
    expect(after.redis.pid).toBe(before.redis.pid);
    expect(after.postgres.pid).toBe(before.postgres.pid);
    expect(after.users.map((u: { pid: number }) => u.pid)).toEqual([engineA.cmd.child.pid]);
    expect((await fetch(`${engineA.url}/healthz`)).status).toBe(200);
    const brand = catalogProduct(0).name.split(' ')[0]!;
    const found = await api(engineA.url, 'GET', `/api/products/search?q=${encodeURIComponent(brand)}`);
    expect(found.status).toBe(200);
    expect(found.body.total).toBeGreaterThan(0);
    expect(engineA.cmd.output()).not.toMatch(/ECONNREFUSED/);

    // Side by side: each clone has its own services and PSP port (4010 is taken), and B's checkout is
    // charged through the simulator B started.
    expect(record(b).redis.pid).not.toBe(before.redis.pid);
    expect(engineA.pspUrl).not.toBe(engineB.pspUrl);
    expect(engineB.pspUrl).not.toMatch(/:4010$/);
    const product = await api(engineB.url, 'POST', '/admin/products', { sku: 'SIDE-1', name: 'Side by side', priceCents: 1234, stock: 5 });
    expect(product.status).toBe(201);
    const shopper = await api(engineB.url, 'POST', '/api/auth/register', { email: 'side@example.test', password: 'two clones at once' }, '');
    expect(shopper.status).toBe(201);
    expect((await api(engineB.url, 'PUT', `/api/cart/items/${product.body.id}`, { quantity: 1 }, shopper.body.token)).status).toBe(200);
    const order = await api(engineB.url, 'POST', '/api/checkout', { paymentMethod: 'pm_card_ok' }, shopper.body.token, { 'idempotency-key': 'side-1' });
    expect(order.status, JSON.stringify(order.body)).toBe(201);
    expect(order.body.status).toBe('paid');
    const stats = await (await fetch(`${engineB.pspUrl}/v1/stats`)).json();
    expect(stats.charges.succeeded).toBe(1);

    expect(await stop(engineA.cmd)).toBe(0);
    expect(await stop(engineB.cmd)).toBe(0);
    expect(a.serviceProcesses()).toEqual([]);
    expect(b.serviceProcesses()).toEqual([]);
    expect(pidAlive(before.redis.pid) || pidAlive(before.postgres.pid)).toBe(false);
    expect(record(a)).toBeUndefined();
    expect(record(b)).toBeUndefined();
  }, 300_000);

  it('npm run demo -- --shoppers 200: the whole sale runs, the report has its charts, every invariant holds, nothing is left running', async () => {
    const c = copies[0] ?? copyProject();
    if (!copies.includes(c)) copies.push(c);
    const demo = c.spawn('scripts/demo.ts', ['--shoppers', '200', '--opens-in', '8'], { PORT: String(await freePort()) });
    running.push(demo);
    const code = await demo.exited;
    const out = demo.output();
    expect(code, out.slice(-3000)).toBe(0);
    const dir = /report: (reports\/demo-[^/]+)\/report\.html/.exec(out)?.[1];
    expect(dir).toBeDefined();
    const html = readFileSync(join(c.dir, dir!, 'report.html'), 'utf8');
    const summary = JSON.parse(readFileSync(join(c.dir, dir!, 'summary.json'), 'utf8'));
    expect(html.match(/<svg /g)?.length).toBe(5);
    expect(html).not.toMatch(/<script|src="http/); // self-contained
    expect(html).toContain('Every invariant held.');
    expect(summary.ok).toBe(true);
    expect(summary.checks.map((k: { name: string; ok: boolean }) => [k.name, k.ok])).toEqual([
      ['no oversell', true],
      ['every shopper told their outcome', true],
      ['paid orders = net PSP charges', true],
      ['Redis and Postgres reconciled', true],
    ]);
    expect(summary.funnel.joined).toBe(200);
    expect(summary.outcomes.paid).toBe(summary.sale.quantity);
    expect(c.serviceProcesses()).toEqual([]);

    if (existsSync('/usr/bin/chromium')) {
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({
        executablePath: '/usr/bin/chromium',
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
      try {
        const page = await browser.newPage({ viewport: { width: 980, height: 900 } });
        await page.goto(`file://${join(c.dir, dir!, 'report.html')}`);
        expect(await page.locator('svg').count()).toBe(5);
        expect(await page.locator('.verdict.ok').textContent()).toBe('Every invariant held.');
        mkdirSync(join('test', 'artifacts'), { recursive: true });
        await page.screenshot({ path: join('test', 'artifacts', 'demo-report.png'), fullPage: true });
      } finally {
        await browser.close();
      }
    }
  }, 300_000);

  it('Postgres killed under a running engine: SIGTERM still stops the engine and its Redis', async () => {
    const c = copies[1] ?? copyProject();
    if (!copies.includes(c)) copies.push(c);
    const engine = await startEngine(c, await freePort());
    const r = record(c);
    process.kill(r.postgres.pid, 'SIGKILL');
    await new Promise((res) => setTimeout(res, 1_000));
    engine.cmd.child.kill('SIGTERM');
    expect(await engine.cmd.exited).toBe(0);
    expect(pidAlive(r.redis.pid)).toBe(false);
    expect(c.serviceProcesses()).toEqual([]);
    expect(record(c)).toBeUndefined();
  }, 180_000);

  it.skipIf(userInfo().uid !== 0)('a clone inside a directory only root can enter (0700) starts, with Postgres run as the postgres user from binaries it can reach, and stops clean', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'fs-private-')); // 0700
    try {
      const c = copyProject({ parent, linkModules: 'private-postgres' });
      copies.push(c);
      const engine = await startEngine(c, await freePort());
      expect((await fetch(`${engine.url}/healthz`)).status).toBe(200);
      const r = record(c);
      // The binaries in the copy's node_modules are out of the postgres user's reach: a reachable copy runs.
      expect(readlinkSync(`/proc/${r.postgres.pid}/exe`)).not.toContain(parent);
      expect(readFileSync(`/proc/${r.postgres.pid}/status`, 'utf8')).toMatch(/^Uid:\s+(?!0\s)\d+/m);
      expect(await stop(engine.cmd)).toBe(0);
      expect(pidAlive(r.redis.pid) || pidAlive(r.postgres.pid)).toBe(false);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  }, 300_000);
});
