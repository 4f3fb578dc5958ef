import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { registeredLua } from '../infra/lua.js';
import { beginCheckout, saleKeys } from '../reservation/index.js';
import { makeUsers } from '../test/sales.js';
import { createTestWorld, type TestWorld } from '../test/harness.js';
import { holdsFor, openSaleNow } from '../test/settlement-helpers.js';
import { SoldMarker } from './sold-marker.js';

let world: TestWorld;
beforeAll(async () => {
  world = await createTestWorld();
});
afterAll(async () => {
  await world?.cleanup();
});

/** `n` holds of a fresh sale, checked out (state paying). */
async function payingHolds(n: number): Promise<{ saleId: string; rids: string[] }> {
  const { saleId } = await openSaleNow(world.ctx, n);
  const users = await makeUsers(world.ctx, n);
  const rids = await holdsFor(world.ctx, saleId, users.map((u) => u.id));
  const k = saleKeys(world.config.redisPrefix, saleId);
  for (const [i, rid] of rids.entries()) {
    const { status } = await beginCheckout(world.ctx.redis, k, { rid, userId: users[i].id, nowMs: Date.now(), idempotencyKey: `key-${rid}`, orderId: randomUUID(), paymentMethod: 'pm_card_ok' });
    expect(status).toBe('OK');
  }
  return { saleId, rids };
}

it('holds marked in the same turn share one script call per sale (at most maxBatch ids); each caller gets its own status', async () => {
  const a = await payingHolds(25);
  const b = await payingHolds(5);
  const command = registeredLua('mark-sold')!.command;
  const redis = world.ctx.redis as unknown as Record<string, (...args: unknown[]) => unknown>;
  const original = redis[command];
  const calls: number[] = [];
  redis[command] = function (this: unknown, ...args: unknown[]) {
    // ids after the 5 keys; the auto-pipeline copies the client's commands and calls this again on itself
    if (this === redis) calls.push(args.length - 5);
    return original.apply(this, args);
  };
  const marker = new SoldMarker(world.ctx, 10);
  try {
    const first = await Promise.all([
      ...a.rids.map((rid) => marker.mark({ rid, saleId: a.saleId })),
      ...b.rids.map((rid) => marker.mark({ rid, saleId: b.saleId })),
      marker.mark({ rid: `${a.saleId}-404`, saleId: a.saleId }),
    ]);
    expect(first).toEqual([...Array(30).fill('SOLD'), 'MISSING']);
    expect(calls.sort((x, y) => x - y)).toEqual([5, 6, 10, 10]); // sale a: 26 ids in calls of 10, 10, 6; sale b: 5
    expect(await marker.mark({ rid: a.rids[0], saleId: a.saleId })).toBe('ALREADY');
  } finally {
    redis[command] = original;
  }
  const stats = await world.ctx.redis.hgetall(saleKeys(world.config.redisPrefix, a.saleId).stats);
  expect(stats).toMatchObject({ held: '0', sold: '25' });
});
