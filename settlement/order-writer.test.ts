import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeUsers } from '../test/sales.js';
import { createTestWorld, type TestWorld } from '../test/harness.js';
import { openSaleNow } from '../test/settlement-helpers.js';
import { OrderRejectedError, OrderWriter, type OrderRow } from './order-writer.js';
import { runSaga, SagaAbort } from '../infra/saga.js';

let world: TestWorld;
beforeAll(async () => {
  world = await createTestWorld();
});
afterAll(async () => {
  await world?.cleanup();
});

function row(saleId: string, productId: string, userId: string, i: number): OrderRow {
  return {
    orderId: randomUUID(), userId, saleId, reservationId: `${saleId}-${i}`, productId, quantity: 1, unitPriceCents: 300,
    status: 'paid', createdAt: Date.now(), payment: { chargeId: `ch_${i}`, status: 'succeeded' },
  };
}

it('2,000 concurrent order writes go to Postgres in a few multi-row statements; replays write nothing twice', async () => {
  const { saleId, productId } = await openSaleNow(world.ctx, 10);
  const [user] = await makeUsers(world.ctx, 1);
  const writer = new OrderWriter(world.ctx.db, world.ctx.log, { maxBatch: 500, maxInFlight: 2 });
  let statements = 0;
  const query = world.ctx.db.query.bind(world.ctx.db);
  world.ctx.db.query = ((...args: Parameters<typeof query>) => {
    statements++;
    return query(...args);
  }) as typeof query;
  const rows = Array.from({ length: 2_000 }, (_, i) => row(saleId, productId, user.id, i));
  try {
    await Promise.all([...rows, ...rows.slice(0, 500)].map((r) => writer.write(r)));
  } finally {
    world.ctx.db.query = query;
  }
  expect(statements).toBeLessThanOrEqual(10);
  const counts = await world.ctx.db.query(
    `SELECT (SELECT count(*)::int FROM orders WHERE sale_id = $1) AS orders,
            (SELECT count(*)::int FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.sale_id = $1) AS items,
            (SELECT count(*)::int FROM payments WHERE idempotency_key LIKE $2) AS payments`,
    [saleId, `${saleId}-%`],
  );
  expect(counts.rows[0]).toEqual({ orders: 2_000, items: 2_000, payments: 2_000 });
});

it('a row Postgres rejects fails alone; the rest of its batch is written', async () => {
  const { saleId, productId } = await openSaleNow(world.ctx, 10);
  const [user] = await makeUsers(world.ctx, 1);
  const writer = new OrderWriter(world.ctx.db, world.ctx.log, { maxBatch: 100, lingerMs: 20 });
  const good = Array.from({ length: 20 }, (_, i) => row(saleId, productId, user.id, i));
  const bad = { ...row(saleId, productId, '999999999', 99) }; // no such user
  const results = await Promise.allSettled([...good, bad].map((r) => writer.write(r)));
  expect(results.slice(0, 20).every((r) => r.status === 'fulfilled')).toBe(true);
  expect(results[20].status).toBe('rejected');
  expect((results[20] as PromiseRejectedResult).reason).toBeInstanceOf(OrderRejectedError);
  const n = await world.ctx.db.query('SELECT count(*)::int AS n FROM orders WHERE sale_id = $1', [saleId]);
  expect(n.rows[0].n).toBe(20);
});

it('a saga that aborts compensates the steps already done, in reverse order; a transient error compensates nothing', async () => {
  const log: string[] = [];
  const step = (name: string, fail?: Error) => ({
    name,
    run: async () => {
      if (fail) throw fail;
      log.push(`run ${name}`);
    },
    compensate: async () => {
      log.push(`undo ${name}`);
    },
  });
  const result = await runSaga([step('a'), step('b'), step('c', new SagaAbort('declined')), step('d')], {});
  expect(result).toMatchObject({ outcome: 'compensated', failedStep: 'c', abort: { reason: 'declined' } });
  expect(log).toEqual(['run a', 'run b', 'undo b', 'undo a']);
  log.length = 0;
  await expect(runSaga([step('a'), step('b', new Error('network'))], {})).rejects.toThrow('network');
  expect(log).toEqual(['run a']);
});
