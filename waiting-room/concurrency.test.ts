import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../test/engine.js';
import { makeUsers } from '../test/sales.js';
import { queueKeys } from './keys.js';
import { makeQueueSale, QueueClient, sleep } from '../test/waiting-room.js';

let t: TestEngine;
beforeAll(async () => {
  t = await startTestEngine({ maxConnectionsPerIp: 10_000 });
});
afterAll(async () => {
  await t?.cleanup();
});

describe('waiting room under concurrent joins', () => {
  it('1,000 users firing 2,000 concurrent joins get exactly one place each, and the tickets are exactly 1..1,000', async () => {
    // stock 1, factor 1: one admission outstanding, so the line stands still while we look at it
    const saleId = await makeQueueSale(t.api, t.config.adminApiKey, { quantity: 1, overAdmissionFactor: 1, batchSize: 1 });
    const users = await makeUsers(t.ctx, 1000);
    const replies = await Promise.all(users.flatMap((u) => [0, 1].map(() => t.api('POST', `/api/sales/${saleId}/queue`, { token: u.token }))));
    expect(replies.every((r) => r.status === 202)).toBe(true);
    for (let i = 0; i < users.length; i++) expect(replies[2 * i].body.ticket).toBe(replies[2 * i + 1].body.ticket);
    const k = queueKeys(t.config.redisPrefix, saleId);
    const tickets = (await t.ctx.redis.hvals(k.tickets)).map(Number).sort((a, b) => a - b);
    expect(tickets).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(Number(await t.ctx.redis.hget(k.state, 'next'))).toBe(1000);
  });

  it('one user opening 20 sockets at once holds one place: every socket gets the same ticket and exactly one stays open', async () => {
    const saleId = await makeQueueSale(t.api, t.config.adminApiKey, { quantity: 1, overAdmissionFactor: 1, batchSize: 1 });
    const [head, u] = await makeUsers(t.ctx, 2);
    const h = await QueueClient.connect(t.url, saleId, head.token);
    await h.waitType('admitted');
    const sockets = await Promise.all(Array.from({ length: 20 }, () => QueueClient.connect(t.url, saleId, u.token)));
    const tickets = await Promise.all(sockets.map(async (s) => (await s.waitFor((m) => m.type === 'queued' || !!s.closed, 'queued or closed')).ticket));
    expect(new Set(tickets.filter((x) => x !== undefined))).toEqual(new Set([2]));
    await sleep(300);
    expect(sockets.filter((s) => !s.closed)).toHaveLength(1);
    expect(sockets.filter((s) => s.closed).every((s) => s.closed!.code === 4001)).toBe(true);
    sockets.forEach((s) => s.close());
    h.close();
  });
});
