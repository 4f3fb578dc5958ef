import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../test/engine.js';
import { eventually, makeUsers } from '../test/sales.js';
import { queueKeys } from './keys.js';
import { makeQueueSale, QueueClient, shownPositions, sleep } from '../test/waiting-room.js';

let t: TestEngine;
beforeAll(async () => {
  t = await startTestEngine({ maxConnectionsPerIp: 10_000, disconnectGraceSeconds: 2 });
});
afterAll(async () => {
  await t?.cleanup();
});

const sale = (o: Parameters<typeof makeQueueSale>[2]) => makeQueueSale(t.api, t.config.adminApiKey, o);
const connect = (saleId: string, token: string, extra?: Record<string, string>) => QueueClient.connect(t.url, saleId, token, extra);
const ticketOf = async (c: QueueClient) => (await c.waitFor((m) => m.type === 'queued' && typeof m.ticket === 'number', 'a ticket')).ticket as number;
const reserve = (saleId: string, token: string, admissionToken: string) =>
  t.api('POST', `/api/sales/${saleId}/reservations`, { token, body: { quantity: 1 }, headers: { 'admission-token': admissionToken } });

function expectNeverUp(clients: QueueClient[]) {
  for (const c of clients) {
    const p = shownPositions(c);
    for (let i = 1; i < p.length; i++) expect(p[i], `positions ${p.join(',')}`).toBeLessThanOrEqual(p[i - 1]);
  }
}

describe('waiting room queue (WebSocket, one gateway)', () => {
  it('pre-start joiners are shuffled at the start with crypto randomness; later joiners are first-in, first-out; admission follows the tickets', async () => {
    const saleId = await sale({ startsInMs: 2500, quantity: 100, batchSize: 5, intervalMs: 100 });
    const users = await makeUsers(t.ctx, 30);
    const early: QueueClient[] = [];
    for (const u of users.slice(0, 20)) {
      const c = await connect(saleId, u.token);
      const q = await c.waitType('queued');
      expect(q).toMatchObject({ ticket: null, position: null, etaSeconds: null });
      early.push(c);
    }
    const earlyTickets = await Promise.all(early.map(ticketOf));
    expect([...earlyTickets].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(earlyTickets).not.toEqual(Array.from({ length: 20 }, (_, i) => i + 1)); // 1 in 20! to fail by chance
    const late: QueueClient[] = [];
    for (const u of users.slice(20)) {
      const c = await connect(saleId, u.token);
      await ticketOf(c);
      late.push(c);
    }
    expect(await Promise.all(late.map(ticketOf))).toEqual(Array.from({ length: 10 }, (_, i) => i + 21));
    const all = [...early, ...late];
    await Promise.all(all.map((c) => c.waitType('admitted')));
    // whoever had the lower ticket was admitted in the same tick or an earlier one
    const k = queueKeys(t.config.redisPrefix, saleId);
    const byTicket = await Promise.all(users.map(async (u) => [Number(await t.ctx.redis.hget(k.tickets, u.id)), Number(await t.ctx.redis.zscore(k.admitted, u.id))]));
    byTicket.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < byTicket.length; i++) expect(byTicket[i][1]).toBeGreaterThanOrEqual(byTicket[i - 1][1]);
    expectNeverUp(all);
    all.forEach((c) => c.close());
  });

  it('a reconnect keeps the place, and a second socket takes it over from the first', async () => {
    const saleId = await sale({ quantity: 1, overAdmissionFactor: 1, batchSize: 1 });
    const [first, u] = await makeUsers(t.ctx, 2);
    const head = await connect(saleId, first.token);
    await head.waitType('admitted'); // the one unit's admission is outstanding: the line stands still
    const a = await connect(saleId, u.token);
    const ticket = await ticketOf(a);
    const b = await connect(saleId, u.token);
    expect(await ticketOf(b)).toBe(ticket);
    expect((await a.waitClosed()).code).toBe(4001);
    b.kill();
    await sleep(100);
    const c = await connect(saleId, u.token);
    expect(await ticketOf(c)).toBe(ticket);
    expect(c.of('queued')[0].position).toBe(1);
    head.close();
    c.close();
  });

  it('an abandoned place is skipped once the grace period is over, and its owner queues again at the back', async () => {
    const saleId = await sale({ quantity: 1, overAdmissionFactor: 1, batchSize: 1, perUserLimit: 1 });
    const [x, gone, stays] = await makeUsers(t.ctx, 3);
    const cx = await connect(saleId, x.token);
    const grant = await cx.waitType('admitted');
    const cg = await connect(saleId, gone.token);
    const cs = await connect(saleId, stays.token);
    expect([await ticketOf(cg), await ticketOf(cs)]).toEqual([2, 3]);
    cg.kill();
    await sleep(2600); // longer than the 2 s grace period
    // x buys and gives the unit back: stock returns and the line moves past the abandoned place
    const r = await reserve(saleId, x.token, grant.admissionToken as string);
    expect(r.status).toBe(201);
    expect((await t.api('DELETE', `/api/reservations/${r.body.reservationId}`, { token: x.token })).status).toBe(200);
    await cs.waitType('admitted');
    const back = await connect(saleId, gone.token);
    expect(await ticketOf(back)).toBe(4);
    expect(back.of('admitted')).toHaveLength(0);
    const k = queueKeys(t.config.redisPrefix, saleId);
    expect(Number(await t.ctx.redis.hget(k.state, 'skipped'))).toBe(1);
    [cx, cs, back].forEach((c) => c.close());
  });

  // "Within 1 s" is met by design (the sold-out check runs on every 50 ms ticker step; observed gaps here are
  // ~100-200 ms) but not asserted: tests never assert timings on this shared machine.
  it('over-admission is capped by stock x factor; sold_out reaches every queued client on the next ticker steps; admission resumes when stock returns', async () => {
    const saleId = await sale({ quantity: 10, overAdmissionFactor: 1.5, batchSize: 100, intervalMs: 100, perUserLimit: 1 });
    const users = await makeUsers(t.ctx, 40);
    const clients = await Promise.all(users.map((u) => connect(saleId, u.token)));
    await Promise.all(clients.map(ticketOf));
    const k = queueKeys(t.config.redisPrefix, saleId);
    await eventually(async () => clients.filter((c) => c.of('admitted').length).length === 15, '15 admissions');
    await sleep(600); // several more ticks
    expect(clients.filter((c) => c.of('admitted').length)).toHaveLength(15);
    expect(await t.ctx.redis.zcard(k.admitted)).toBe(15);

    const admitted = clients.map((c, i) => ({ c, u: users[i] })).filter(({ c }) => c.of('admitted').length);
    const buyers = admitted.slice(0, 10);
    const holds = await Promise.all(buyers.map(({ c, u }) => reserve(saleId, u.token, c.of('admitted')[0].admissionToken as string)));
    expect(holds.map((h) => h.status)).toEqual(Array(10).fill(201));
    const queued = clients.filter((c) => !c.of('admitted').length);
    expect(queued).toHaveLength(25);
    const notices = await Promise.all(queued.map((c) => c.waitType('sold_out')));
    for (const n of notices) {
      expect(n.final).toBe(false); // holds are outstanding
    }
    // stock comes back: 10 units, 5 admissions still outstanding -> room for floor(10 x 1.5) - 5 = 10 more
    await Promise.all(holds.map((h, i) => t.api('DELETE', `/api/reservations/${h.body.reservationId}`, { token: buyers[i].u.token })));
    await eventually(async () => queued.filter((c) => c.of('admitted').length).length === 10, '10 more admissions');
    await sleep(400);
    expect(queued.filter((c) => c.of('admitted').length)).toHaveLength(10);
    expectNeverUp(clients);
    clients.forEach((c) => c.close());
  });

  it('closing the sale sends closed to everyone and closes every socket cleanly; later joiners get closed too', async () => {
    const saleId = await sale({ quantity: 1, overAdmissionFactor: 1, batchSize: 1 });
    const users = await makeUsers(t.ctx, 11);
    const clients = await Promise.all(users.slice(0, 10).map((u) => connect(saleId, u.token)));
    await Promise.all(clients.map((c) => c.waitFor((m) => m.type === 'queued' || m.type === 'admitted', 'a place')));
    expect((await t.api('POST', `/admin/sales/${saleId}/close`, { token: t.config.adminApiKey })).status).toBe(200);
    for (const c of clients) {
      await c.waitType('closed');
      expect((await c.waitClosed()).code).toBe(1000);
    }
    const late = await connect(saleId, users[10].token);
    await late.waitType('closed');
    expect((await late.waitClosed()).code).toBe(1000);
    const post = await t.api('POST', `/api/sales/${saleId}/queue`, { token: users[10].token });
    expect(post.status).toBe(409);
    expect(post.body.error.code).toBe('sale_closed');
  });
});
