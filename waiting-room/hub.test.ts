import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../test/engine.js';
import { createGateway, listen, type Gateway } from '../gateway/app.js';
import { makeUsers } from '../test/sales.js';
import { Hub } from './hub.js';
import { queueKeys } from './keys.js';
import { makeQueueSale, QueueClient } from '../test/waiting-room.js';
import { mountQueueSocket } from './ws.js';

/**
 * A gateway whose hub is in the test's hands (the engine supplies sales and the other parts): for what
 * pub/sub cannot replay.
 */
let t: TestEngine;
let hub: Hub;
let gw: Gateway;
beforeAll(async () => {
  t = await startTestEngine({ maxConnectionsPerIp: 10_000 });
  hub = new Hub(t.ctx);
  gw = await listen(createGateway(t.ctx, [], [(app) => mountQueueSocket(t.ctx, hub, app)]), '127.0.0.1', 0);
  await hub.start();
});
afterAll(async () => {
  gw?.close();
  await hub?.stop();
  await t?.cleanup();
});

describe('waiting room catch-up after a lost subscriber', () => {
  it('an admission whose pub/sub message was lost still reaches the socket, and a closed sale closes it', async () => {
    const saleId = await makeQueueSale(t.api, t.config.adminApiKey, { quantity: 1, overAdmissionFactor: 1, batchSize: 1 });
    const [head, u] = await makeUsers(t.ctx, 2);
    const h = await QueueClient.connect(`http://127.0.0.1:${gw.port}`, saleId, head.token);
    await h.waitType('admitted');
    const c = await QueueClient.connect(`http://127.0.0.1:${gw.port}`, saleId, u.token);
    await c.waitType('queued');
    // as if the ticker admitted u while this gateway's subscriber was down
    await t.ctx.redis.hset(queueKeys(t.config.redisPrefix, saleId).grants, u.id, 'the-token|2030-01-01T00:00:00.000Z');
    await hub.catchUp();
    expect(await c.waitType('admitted')).toMatchObject({ admissionToken: 'the-token', expiresAt: '2030-01-01T00:00:00.000Z' });

    await t.ctx.db.query(`UPDATE sales SET status = 'closed' WHERE id = $1`, [saleId]); // the close message was lost too
    await new Promise((r) => setTimeout(r, 1100)); // the sale cache lives 1 s
    await hub.catchUp();
    for (const x of [h, c]) {
      await x.waitType('closed');
      expect((await x.waitClosed()).code).toBe(1000);
    }
  });
});

describe('waiting room liveness pings', () => {
  it('pings its sockets itself (uWS does not), and the socket stays open', async () => {
    const saleId = await makeQueueSale(t.api, t.config.adminApiKey, { startsInMs: 60_000 });
    const [u] = await makeUsers(t.ctx, 1);
    const c = await QueueClient.connect(`http://127.0.0.1:${gw.port}`, saleId, u.token);
    await c.waitType('queued');
    let pings = 0;
    c.ws.on('ping', () => (pings += 1));
    // drive the pinger by hand: one full period of slices, with no broadcast going out
    for (let i = 0; i * 100 < 16_000 && pings === 0; i++) {
      hub.pinger.step(Date.now() + 10_000 + i * 100);
      await new Promise((r) => setTimeout(r, 1));
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(pings).toBeGreaterThanOrEqual(1);
    expect(c.closed).toBeNull();
    c.close();
  });
});
