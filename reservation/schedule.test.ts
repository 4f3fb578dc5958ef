import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { startEngine, type Engine } from '../gateway/server.js';
import { createContext, type Context } from '../infra/context.js';
import { createTestWorld, type TestWorld } from '../test/harness.js';
import { SCHEDULE_QUEUE } from './scheduler.js';
import { eventually, makeUsers } from '../test/sales.js';
import { createProduct } from '../storefront/index.js';

/** Each step gets its own context, as a separate process would: nothing in memory survives a "restart". */
let world: TestWorld;
const running: Array<{ engine: Engine; ctx: Context }> = [];

async function boot(): Promise<{ engine: Engine; ctx: Context; api: (m: string, p: string, body?: unknown, token?: string) => Promise<{ status: number; body: any }> }> {
  const ctx = running.length === 0 ? world.ctx : createContext(world.config);
  const engine = await startEngine(ctx, { host: '127.0.0.1', port: 0 });
  running.push({ engine, ctx });
  const api = async (method: string, path: string, body?: unknown, token = world.config.adminApiKey) => {
    const res = await fetch(`http://127.0.0.1:${engine.port}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  return { engine, ctx, api };
}

async function shutDown(b: { engine: Engine; ctx: Context }) {
  await b.engine.stop();
  if (b.ctx !== world.ctx) await b.ctx.close();
}

afterAll(async () => {
  for (const r of running) await r.engine.stop().catch(() => {});
  for (const r of running.slice(1)) await r.ctx.close().catch(() => {});
  await world?.cleanup();
});

const sleepUntil = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms - Date.now())));

describe('schedule', () => {
  it('a sale opens at startsAt and closes at endsAt on its own, and its unsold units go back', async () => {
    world = await createTestWorld();
    const a = await boot();
    const product = await createProduct(a.ctx, { sku: 'S-1', name: 'Shoe', priceCents: 100, stock: 10 });
    const [buyer] = await makeUsers(a.ctx, 1);
    const startsAt = Date.now() + 1500;
    const created = await a.api('POST', '/admin/sales', {
      productId: product.id, quantity: 4, priceCents: 50, perUserLimit: 1, holdSeconds: 60, waitingRoom: false,
      startsAt: new Date(startsAt).toISOString(), endsAt: new Date(startsAt + 1500).toISOString(),
    });
    expect(created.body.status).toBe('scheduled');
    const id = created.body.id;
    expect((await a.api('POST', `/api/sales/${id}/reservations`, { quantity: 1 }, buyer.token)).body.error.code).toBe('sale_not_open');
    await eventually(async () => (await a.api('GET', `/admin/sales/${id}`)).body.status === 'open', 'open');
    expect(Date.now()).toBeGreaterThanOrEqual(startsAt);
    const r = await a.api('POST', `/api/sales/${id}/reservations`, { quantity: 1 }, buyer.token);
    expect(r.status).toBe(201);
    expect((await a.api('GET', `/admin/products/${product.id}`)).body.stock).toBe(6);
    await eventually(async () => (await a.api('GET', `/admin/sales/${id}`)).body.status === 'closed', 'closed', 30_000);
    expect((await a.api('DELETE', `/api/reservations/${r.body.reservationId}`, undefined, buyer.token)).status).toBe(200);
    await eventually(async () => (await a.api('GET', `/admin/products/${product.id}`)).body.stock === 10, 'units back');
    await shutDown(running[0]);
  });

  it('a scheduled sale still opens and closes after the engine restarts, even if its jobs were lost', async () => {
    const a = await boot();
    const product = await createProduct(a.ctx, { sku: 'S-2', name: 'Hat', priceCents: 100, stock: 10 });
    const startsAt = Date.now() + 1500;
    const mk = async (sku: string) => {
      const p = sku === 'S-2' ? product : await createProduct(a.ctx, { sku, name: sku, priceCents: 100, stock: 10 });
      return (await a.api('POST', '/admin/sales', {
        productId: p.id, quantity: 3, priceCents: 50, perUserLimit: 1, holdSeconds: 60, waitingRoom: false,
        startsAt: new Date(startsAt).toISOString(), endsAt: new Date(startsAt + 2500).toISOString(),
      })).body.id as string;
    };
    const kept = await mk('S-2');
    const lost = await mk('S-3');
    await shutDown(a);

    // While nothing runs, the start time passes and the second sale's jobs vanish from Redis.
    const q = new Queue(SCHEDULE_QUEUE, { connection: world.ctx.bull.connection, prefix: world.ctx.bull.prefixFor(SCHEDULE_QUEUE) });
    expect(await q.getJob(`open-${kept}`)).toBeTruthy();
    await (await q.getJob(`open-${lost}`))!.remove();
    await (await q.getJob(`close-${lost}`))!.remove();
    await q.close();
    await sleepUntil(startsAt + 200);
    const row = await world.ctx.db.query('SELECT status FROM sales WHERE id = $1', [kept]);
    expect(row.rows[0].status).toBe('scheduled');

    const b = await boot();
    for (const id of [kept, lost]) {
      await eventually(async () => (await b.api('GET', `/admin/sales/${id}`)).body.status === 'open', `sale ${id} to open`);
    }
    const [buyer] = await makeUsers(b.ctx, 1);
    expect((await b.api('POST', `/api/sales/${kept}/reservations`, { quantity: 1 }, buyer.token)).status).toBe(201);
    await shutDown(b);
    const c = await boot();
    for (const id of [kept, lost]) {
      await eventually(async () => (await c.api('GET', `/admin/sales/${id}`)).body.status === 'closed', `sale ${id} to close`, 30_000);
    }
    const stock = (await c.api('GET', `/admin/products/${product.id}`)).body.stock;
    expect(stock).toBe(7); // one unit still held: not returned yet
  });
});
