import { afterAll, beforeAll, expect, it } from 'vitest';
import { deploymentId } from '../../infra/deployment.js';
import { makeUsers } from '../sales.js';
import { reserve, ReserveBatcher } from '../../reservation/index.js';
import { createPaymentProvider } from '../../settlement/psp-client.js';
import { createTestWorld, type TestWorld } from '../harness.js';
import { startOwnRedis, type OwnRedis } from '../own-redis.js';
import { startPsp, type PspProcess } from '../psp.js';
import { openSaleNow } from '../settlement-helpers.js';

let redis: OwnRedis;
let world: TestWorld;
let other: TestWorld;
let psp: PspProcess;
let batcher: ReserveBatcher;

beforeAll(async () => {
  redis = await startOwnRedis();
  world = await createTestWorld({ redisUrl: redis.url });
  other = await createTestWorld({ redisUrl: redis.url });
  batcher = new ReserveBatcher(world.ctx);
  psp = await startPsp();
});
afterAll(async () => {
  await other?.cleanup();
  await world?.cleanup();
  await redis?.cleanup();
  await psp?.cleanup();
});

const seqOf = (rid: string) => rid.split('-')[1];

it('an AOF rolled back under a live sale (copy, go on, kill -9, restore, restart): no reservation id is handed out twice', async () => {
  const { saleId } = await openSaleNow(world.ctx, 300);
  const users = await makeUsers(world.ctx, 300);
  const reserveAll = (group: typeof users) => Promise.all(group.map((u) => reserve(world.ctx, batcher, { saleId, userId: u.id, quantity: 1 }).then((r) => r.reservationId)));

  const before = await reserveAll(users.slice(0, 100));
  await redis.snapshot();
  const lost = await reserveAll(users.slice(100, 200)); // acknowledged, then lost
  await redis.rollback();
  const after = await reserveAll(users.slice(200, 300));

  // The rollback was real: the sequence went back and handed out the lost sequence numbers again...
  const lostSeqs = new Set(lost.map(seqOf));
  expect(after.filter((rid) => lostSeqs.has(seqOf(rid))).length).toBe(100);
  // ...but every id is new.
  const all = [...before, ...lost, ...after];
  expect(new Set(all).size).toBe(300);
  for (const rid of all) expect(rid).toMatch(new RegExp(`^${saleId}-\\d+-[0-9a-z]+$`));
});

it('two deployments sharing one PSP account: the same reservation id never returns the other deployment\'s charge', async () => {
  const [a, b] = [world, other].map((w) => createPaymentProvider({ ...w.config, pspUrl: psp.url }, w.ctx.db));
  expect(await deploymentId(world.ctx.db, world.config)).not.toBe(await deploymentId(other.ctx.db, other.config));
  const first = await a.charge({ idempotencyKey: '7-1', amountCents: 1_000, paymentMethod: 'pm_card_ok' });
  const second = await b.charge({ idempotencyKey: '7-1', amountCents: 2_500, paymentMethod: 'pm_card_ok' });
  expect(second.id).not.toBe(first.id);
  expect(second.amountCents).toBe(2_500);
  expect((await a.findByKey('7-1'))?.id).toBe(first.id);
  expect((await b.findByKey('7-1'))?.id).toBe(second.id);
  expect((await psp.stats()).charges.created).toBe(2);
  await Promise.all([a.close(), b.close()]);
});

it('redis-server killed with kill -9 (appendfsync always): every acknowledged reservation is there after the restart', async () => {
  const { saleId } = await openSaleNow(world.ctx, 200);
  const users = await makeUsers(world.ctx, 200);
  const acked = await Promise.all(users.slice(0, 150).map((u) => reserve(world.ctx, batcher, { saleId, userId: u.id, quantity: 1 }).then((r) => r.reservationId)));
  const started = Date.now();
  await redis.kill9();
  await redis.start();
  const recoveryMs = Date.now() - started;
  const records = `${world.config.redisPrefix}{sale:${saleId}}:records`;
  const present = (await Promise.all(acked.map((rid) => world.ctx.redis.hexists(records, rid)))).filter(Boolean).length;
  const more = await Promise.all(users.slice(150).map((u) => reserve(world.ctx, batcher, { saleId, userId: u.id, quantity: 1 }).then((r) => r.reservationId)));
  console.log(`[fault figures] ${JSON.stringify({ scenario: 'redis-server kill -9 (appendfsync always)', acknowledged: acked.length, presentAfter: present, recoveryMs })}`);
  expect(present).toBe(150);
  expect(new Set([...acked, ...more]).size).toBe(200);
  expect(await world.ctx.redis.get(`${world.config.redisPrefix}{sale:${saleId}}:stock`)).toBe('0');
});
