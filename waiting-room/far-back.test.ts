import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../test/engine.js';
import { getSale } from '../reservation/index.js';
import { makeUsers } from '../test/sales.js';
import { queueKeys } from './keys.js';
import { joinQueue } from './queue.js';
import { makeQueueSale, QueueClient, shownPositions } from '../test/waiting-room.js';
import { MAX_REFRESH_MS, tierLayout } from './tiers.js';

let t: TestEngine;
beforeAll(async () => {
  t = await startTestEngine({ maxConnectionsPerIp: 10_000 });
});
afterAll(async () => {
  await t?.cleanup();
});

describe('waiting room tiers (updates by distance from the head)', () => {
  it('a shopper far back hears a refresh at least every 5 s, fewer than every tick while far, and is admitted within one tick of their turn', async () => {
    const intervalMs = 2000;
    const batchSize = 20;
    const saleId = await makeQueueSale(t.api, t.config.adminApiKey, { quantity: 1000, batchSize, intervalMs, windowSeconds: 300 });
    const sale = (await getSale(t.ctx, saleId))!;
    const ahead = await makeUsers(t.ctx, 150);
    await Promise.all(ahead.map((u) => joinQueue(t.ctx, sale, u.id, '', true)));
    const [far] = await makeUsers(t.ctx, 1);
    const c = await QueueClient.connect(t.url, saleId, far.token);
    const queued = await c.waitFor((m) => m.type === 'queued' && typeof m.ticket === 'number', 'a ticket');
    const ticket = queued.ticket as number;
    const layout = tierLayout(batchSize, intervalMs);
    expect(queued.position as number).toBeGreaterThan(layout.bounds[0]); // beyond the head tier
    // people behind, so the line still has demand (and the tick script keeps its samples) after the turn
    const behind = await makeUsers(t.ctx, 60);
    await Promise.all(behind.map((u) => joinQueue(t.ctx, sale, u.id, '', true)));

    const admitted = await c.waitType('admitted', 60_000);
    const refreshes = [queued, ...c.messages.filter((m) => m.type === 'position' && typeof m.serving === 'number' && m.at < admitted.at)];
    const gaps = refreshes.slice(1).map((m, i) => m.at - refreshes[i].at);
    expect(gaps.length).toBeGreaterThan(2);
    expect(Math.max(...gaps), `gaps ${gaps.join(', ')} ms`).toBeLessThanOrEqual(5000);
    // while far back the socket was told when to expect the next refresh, and it was not every tick
    expect(refreshes[1].nextRefreshMs).toBeGreaterThan(intervalMs);
    expect(refreshes[1].nextRefreshMs).toBeLessThanOrEqual(MAX_REFRESH_MS);
    // positions never went up
    const shown = shownPositions(c).filter((p) => p > 0);
    for (let i = 1; i < shown.length; i++) expect(shown[i]).toBeLessThanOrEqual(shown[i - 1]);

    // its turn: the tick whose serving position passed its ticket (the tick script's own record, Redis clock)
    const samples = (await t.ctx.redis.lrange(queueKeys(t.config.redisPrefix, saleId).rate, 0, -1))
      .map((s) => s.split(':').map(Number) as [number, number])
      .sort((a, b) => a[0] - b[0]);
    const turn = samples.find(([, serving]) => serving >= ticket);
    expect(turn).toBeDefined();
    const before = samples.filter(([, serving]) => serving < ticket).at(-1);
    if (before) expect(admitted.at).toBeGreaterThan(before[0]); // not before its turn
    expect(admitted.at - turn![0]).toBeLessThan(intervalMs); // within one tick of it
    c.close();
  }, 90_000);
});
