import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../test/engine.js';
import { makeUsers } from '../test/sales.js';
import { solvePow } from './pow.js';
import { notifyUser } from './index.js';
import { makeQueueSale, QueueClient, sleep } from '../test/waiting-room.js';

let t: TestEngine;
beforeAll(async () => {
  t = await startTestEngine({ maxConnectionsPerIp: 10_000, disconnectGraceSeconds: 5 });
});
afterAll(async () => {
  await t?.cleanup();
});

const sale = (o: Parameters<typeof makeQueueSale>[2]) => makeQueueSale(t.api, t.config.adminApiKey, o);
const connect = (saleId: string, token: string, extra?: Record<string, string>) => QueueClient.connect(t.url, saleId, token, extra);
const refusal = (p: Promise<unknown>) => p.then(() => 0, (err: { status?: number }) => err.status ?? -1);

describe('waiting room over HTTP', () => {
  it('POST joins and GET reports waiting, admitted (with the token) and sold out; the WebSocket sees the same place', async () => {
    const saleId = await sale({ quantity: 1, overAdmissionFactor: 1, batchSize: 1 });
    const [x, u] = await makeUsers(t.ctx, 2);
    expect((await t.api('GET', `/api/sales/${saleId}/queue`, { token: x.token })).status).toBe(404);
    const jx = await t.api('POST', `/api/sales/${saleId}/queue`, { token: x.token });
    expect(jx.status).toBe(202);
    expect(jx.body).toMatchObject({ ticket: 1, position: 1 });
    let gx: { status: number; body: any };
    do {
      await sleep(50);
      gx = await t.api('GET', `/api/sales/${saleId}/queue`, { token: x.token });
    } while (gx.body.status === 'waiting');
    expect(gx.body).toMatchObject({ status: 'admitted', position: 0, etaSeconds: 0 });
    expect(typeof gx.body.admissionToken).toBe('string');
    expect(Date.parse(gx.body.admissionExpiresAt)).toBeGreaterThan(Date.now());

    const ju = await t.api('POST', `/api/sales/${saleId}/queue`, { token: u.token });
    expect(ju).toMatchObject({ status: 202, body: { ticket: 2, position: 1 } });
    expect((await t.api('POST', `/api/sales/${saleId}/queue`, { token: u.token })).body.ticket).toBe(2); // one place per user
    expect((await t.api('GET', `/api/sales/${saleId}/queue`, { token: u.token })).body).toMatchObject({ status: 'waiting', position: 1 });
    const ws = await connect(saleId, u.token);
    expect(await ws.waitType('queued')).toMatchObject({ ticket: 2, position: 1 });

    const r = await t.api('POST', `/api/sales/${saleId}/reservations`, { token: x.token, body: { quantity: 1 }, headers: { 'admission-token': gx.body.admissionToken } });
    expect(r.status).toBe(201);
    await ws.waitType('sold_out');
    expect((await t.api('GET', `/api/sales/${saleId}/queue`, { token: u.token })).body).toMatchObject({ status: 'sold_out', etaSeconds: null });
    ws.close();
  });

  it('bad requests get their 4xx: no token, unknown sale, a sale without waiting room, a queue not open yet, a bad body', async () => {
    const [u] = await makeUsers(t.ctx, 1);
    const saleId = await sale({});
    expect((await t.api('POST', `/api/sales/${saleId}/queue`)).status).toBe(401);
    expect((await t.api('POST', `/api/sales/${saleId}/queue`, { token: 'forged.token' })).status).toBe(401);
    expect((await t.api('POST', '/api/sales/999999/queue', { token: u.token })).status).toBe(404);
    expect((await t.api('GET', '/api/sales/abc/queue', { token: u.token })).status).toBe(404);
    const plain = await sale({ waitingRoom: false });
    const np = await t.api('POST', `/api/sales/${plain}/queue`, { token: u.token });
    expect(np).toMatchObject({ status: 409, body: { error: { code: 'no_waiting_room' } } });
    const later = await sale({ startsInMs: 3_600_000, endsInMs: 7_200_000, queueOpensInMs: 1_800_000 });
    expect((await t.api('POST', `/api/sales/${later}/queue`, { token: u.token })).body.error.code).toBe('queue_not_open');
    expect((await t.api('POST', `/api/sales/${saleId}/queue`, { token: u.token, body: '{nope' })).status).toBe(400);
    expect((await t.api('POST', `/api/sales/${saleId}/queue`, { token: u.token, body: { pow: 12 } })).status).toBe(400);
  });
});

describe('waiting room proof of work', () => {
  it('a sale with powDifficulty refuses joins without a good stamp, over HTTP and WebSocket, and takes them with one', async () => {
    const saleId = await sale({ powDifficulty: 8 });
    const [a, b, c] = await makeUsers(t.ctx, 3);
    const no = await t.api('POST', `/api/sales/${saleId}/queue`, { token: a.token });
    expect(no).toMatchObject({ status: 403, body: { error: { code: 'pow_required' } } });
    const nonceA = solvePow(saleId, a.id, 8);
    const wrong = solvePow(saleId, b.id, 8); // b's stamp is not a's
    if (wrong !== nonceA) expect((await t.api('POST', `/api/sales/${saleId}/queue`, { token: a.token, body: { pow: wrong } })).status).toBe(403);
    expect((await t.api('POST', `/api/sales/${saleId}/queue`, { token: a.token, body: { pow: nonceA } })).status).toBe(202);

    const wb = await connect(saleId, b.token);
    expect(await wb.waitType('error')).toMatchObject({ code: 'pow_required', difficulty: 8 });
    expect(wb.closed).toBeNull();
    wb.send(JSON.stringify({ type: 'join', pow: solvePow(saleId, b.id, 8) }));
    expect(typeof (await wb.waitType('queued')).ticket).toBe('number');

    const wc = await connect(saleId, c.token, { pow: solvePow(saleId, c.id, 8) });
    expect(typeof (await wc.waitType('queued')).ticket).toBe('number');
    expect(wc.of('error')).toHaveLength(0);
    wb.close();
    wc.close();
  });
});

describe('waiting room socket hours and pushes', () => {
  it('a socket before queueOpensAt is told queue_not_open and closed; a settlement push reaches the shopper\'s socket', async () => {
    const [u] = await makeUsers(t.ctx, 1);
    const later = await sale({ startsInMs: 3_600_000, endsInMs: 7_200_000, queueOpensInMs: 1_800_000 });
    const early = await connect(later, u.token);
    expect(await early.waitType('error')).toMatchObject({ code: 'queue_not_open' });
    expect((await early.waitClosed()).code).toBe(4000);

    const saleId = await sale({});
    const c = await connect(saleId, u.token);
    await c.waitFor((m) => m.type === 'queued' || m.type === 'admitted', 'a place');
    await notifyUser(t.ctx, u.id, { type: 'order', orderId: 'o-1', status: 'paid' });
    expect(await c.waitType('order')).toMatchObject({ orderId: 'o-1', status: 'paid' });
    c.close();
  });
});

describe('waiting room socket limits', () => {
  it('the upgrade is refused: 401 for a bad user token, 404 for an unknown sale, 409 without waiting room, 429 over the per-IP cap', async () => {
    const users = await makeUsers(t.ctx, 4);
    const saleId = await sale({});
    expect(await refusal(connect(saleId, 'garbage'))).toBe(401);
    expect(await refusal(connect(saleId, users[0].token + 'x'))).toBe(401);
    expect(await refusal(connect('424242', users[0].token))).toBe(404);
    expect(await refusal(connect(await sale({ waitingRoom: false }), users[0].token))).toBe(409);
    const cap = t.ctx.config.maxConnectionsPerIp;
    t.ctx.config.maxConnectionsPerIp = 3;
    try {
      const open = await Promise.all(users.slice(0, 3).map((u) => connect(saleId, u.token)));
      expect(await refusal(connect(saleId, users[3].token))).toBe(429);
      open[0].close();
      await open[0].waitClosed();
      await sleep(50);
      const again = await connect(saleId, users[3].token);
      await again.waitFor((m) => m.type === 'queued' || m.type === 'admitted', 'a place');
      [...open, again].forEach((c) => c.close());
    } finally {
      t.ctx.config.maxConnectionsPerIp = cap;
    }
  });

  it('WebSocket garbage (binary frames, 5 KB and 1 MB messages, invalid JSON, unknown types) gets errors, repeated abuse closes the socket, and the gateway keeps serving', async () => {
    const saleId = await sale({ quantity: 1, overAdmissionFactor: 1, batchSize: 1 });
    const users = await makeUsers(t.ctx, 4);
    const head = await connect(saleId, users[0].token);
    await head.waitType('admitted');
    const c = await connect(saleId, users[1].token);
    await c.waitType('queued');
    c.send(Buffer.from([0, 1, 2, 255]), true);
    expect(await c.waitType('error')).toMatchObject({ code: 'binary_not_supported' });
    c.send('{"type":');
    await c.waitFor((m) => m.code === 'invalid_json', 'invalid_json');
    c.send(JSON.stringify({ type: 'status', pad: 'x'.repeat(5000) }));
    await c.waitFor((m) => m.code === 'message_too_large', 'message_too_large');
    c.send(JSON.stringify({ type: 'status' }));
    expect(await c.waitType('position')).toMatchObject({ position: 1 });
    expect(c.closed).toBeNull();
    c.send(JSON.stringify({ type: 'dance' }));
    c.send('[]');
    expect((await c.waitClosed()).code).toBe(1008);

    const big = await connect(saleId, users[2].token);
    await big.waitType('queued');
    big.send('x'.repeat(1024 * 1024));
    const bigClose = await big.waitClosed();
    expect(bigClose.code).not.toBe(1000);

    // still serving: the health check, a new join, and the place of the user whose socket was closed
    expect((await t.api('GET', '/healthz')).status).toBe(200);
    const fresh = await connect(saleId, users[3].token);
    expect(await fresh.waitType('queued')).toMatchObject({ ticket: 4 });
    const back = await connect(saleId, users[1].token);
    expect(await back.waitType('queued')).toMatchObject({ ticket: 2, position: 1 });
    const ping = await connect(saleId, users[2].token);
    await ping.waitType('queued');
    ping.send(JSON.stringify({ type: 'ping' }));
    await ping.waitType('pong');
    [head, fresh, back, ping].forEach((x) => x.close());
  });
});
