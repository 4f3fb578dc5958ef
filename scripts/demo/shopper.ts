import { randomUUID } from 'node:crypto';
import { Agent, request } from 'undici';
import WebSocket from 'ws';

/**
 * One simulated shopper of `npm run demo`, over the engine's real WebSocket and HTTP API: joins the
 * waiting room, waits, is admitted, reserves, and pays with a test card of the PSP simulator. Some leave
 * their place or their hold on purpose; some retry a decline with another card (queueing again: a
 * decline releases the hold and the admission was used). Every step is timed into the shared `Journal`.
 */
export type Outcome = 'paid' | 'declined' | 'sold_out' | 'closed' | 'hold_expired' | 'left_queue' | 'left_hold' | 'not_told';

export interface Plan {
  /** ms after the start of the run when the shopper connects. */
  joinAtMs: number;
  /** Leaves the queue this many ms after joining, if still waiting. */
  leaveQueueAfterMs?: number;
  /** Takes a hold and then walks away: 'release' gives it back, 'expire' lets it run out. */
  leaveHold?: 'release' | 'expire';
  cards: string[];
  thinkMs: number;
}

export type Step = 'join' | 'queue_wait' | 'reserve' | 'checkout' | 'settle';

/** Everything that happened, for the progress line, the charts and the checks. */
export class Journal {
  readonly t0 = Date.now();
  waiting = 0;
  admitted = 0;
  held = 0;
  paid = 0;
  failed = 0;
  /** Queue sockets that dropped and were opened again. */
  reconnects = 0;
  readonly latencies: Record<Step, number[]> = { join: [], queue_wait: [], reserve: [], checkout: [], settle: [] };
  /** [ms since t0, kind] */
  readonly events: Array<[number, 'admitted' | 'reserved' | 'paid' | 'declined']> = [];
  readonly outcomes = new Map<number, Outcome>();
  /** Reservation ids that were checked out (the PSP's idempotency keys). */
  readonly checkedOut: string[] = [];
  readonly problems: string[] = [];
  readonly funnel = { joined: 0, admitted: 0, reserved: 0, checkedOut: 0, paid: 0 };

  event(kind: Journal['events'][number][1]): void {
    this.events.push([Date.now() - this.t0, kind]);
  }
  problem(text: string): void {
    if (this.problems.length < 50) this.problems.push(text);
  }
}

export interface ShopperEnv {
  url: string;
  saleId: string;
  journal: Journal;
  agentFor: (i: number) => Agent;
  localAddressFor: (i: number) => string;
  /** Aborts waiting (the demo's deadline): resolves when the run should give up. */
  giveUp: Promise<void>;
}

interface Reply {
  status: number;
  body: any;
}

async function http(env: ShopperEnv, i: number, method: string, path: string, token: string, headers: Record<string, string> = {}, body?: unknown): Promise<Reply> {
  const res = await request(env.url + path, {
    method: method as 'GET',
    dispatcher: env.agentFor(i),
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return { status: res.statusCode, body: parsed };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A queue socket with a mailbox: `next(types)` waits for the next message of one of `types`. Like the
 * shopper page, it reconnects when the connection drops without a close from the server (the place is
 * kept: the server answers a reconnect with the same ticket), up to 5 times.
 */
class QueueSocket {
  private box: any[] = [];
  private waiter?: () => void;
  private ws!: WebSocket;
  private byUs = false;
  private reconnects = 0;
  closed = false;
  /** The message types seen, for the report when a shopper ends without being told. */
  readonly trail: string[] = [];
  readonly opened: Promise<void>;
  constructor(
    private readonly url: string,
    private readonly localAddress: string,
    private readonly onReconnect: () => void,
  ) {
    this.opened = this.connect();
  }
  private note(t: string): void {
    if (this.trail.length < 30) this.trail.push(t);
  }
  private connect(): Promise<void> {
    const ws = (this.ws = new WebSocket(this.url, { localAddress: this.localAddress }));
    ws.on('message', (data) => {
      let m: any;
      try {
        m = JSON.parse(String(data));
      } catch {
        return;
      }
      this.box.push(m);
      if (m.type !== 'position') this.note(m.type === 'error' ? `error:${m.code}` : m.type === 'sold_out' ? `sold_out:${m.final}` : m.type);
      this.waiter?.();
    });
    ws.on('error', () => {});
    const opened = new Promise<void>((res, rej) => {
      ws.once('open', () => res());
      ws.once('error', rej);
      ws.once('unexpected-response', (_req, r) => rej(new Error(`queue socket refused: HTTP ${r.statusCode}`)));
    });
    ws.on('close', (code) => {
      this.note(`close:${code}`);
      // 1000: the sale closed (or we closed); 4000/4001: not open / replaced by a newer socket of ours.
      const final = this.byUs || code === 1000 || code === 4000 || code === 4001 || this.reconnects >= 5;
      if (!final) {
        this.reconnects++;
        this.onReconnect();
        setTimeout(() => void this.connect().catch(() => {}), 200 + Math.random() * 800);
        return;
      }
      this.closed = true;
      this.waiter?.();
    });
    return opened;
  }
  async next(types: string[], until: Promise<void>): Promise<any | undefined> {
    let gaveUp = false;
    void until.then(() => {
      gaveUp = true;
      this.waiter?.();
    });
    for (;;) {
      const idx = this.box.findIndex((m) => types.includes(m.type));
      if (idx >= 0) return this.box.splice(idx, 1)[0];
      if (this.closed || gaveUp) return undefined;
      await new Promise<void>((r) => (this.waiter = r));
      this.waiter = undefined;
    }
  }
  /** Forgets the messages not taken yet (before queueing again). */
  drain(): void {
    this.box = [];
  }
  send(msg: unknown): void {
    if (!this.closed && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }
  close(): void {
    this.byUs = true;
    if (!this.closed) this.ws.close(1000);
  }
}

/** Runs one shopper to an outcome it was told (or 'not_told', which fails the demo's checks). */
export async function runShopper(env: ShopperEnv, i: number, token: string, plan: Plan): Promise<Outcome> {
  const { journal } = env;
  await sleep(Math.max(0, plan.joinAtMs - (Date.now() - journal.t0)));
  const wsUrl = `${env.url.replace(/^http/, 'ws')}/ws/sales/${env.saleId}?token=${encodeURIComponent(token)}`;
  const joinStarted = Date.now();
  const sock = new QueueSocket(wsUrl, env.localAddressFor(i), () => journal.reconnects++);
  try {
    await sock.opened;
  } catch (err) {
    journal.problem(`shopper ${i}: ${(err as Error).message}`);
    return 'not_told';
  }
  journal.funnel.joined++;
  const queued = await sock.next(['queued', 'closed', 'error'], env.giveUp);
  if (queued?.type !== 'queued') return finish(sock, queued?.type === 'closed' ? 'closed' : 'not_told');
  journal.latencies.join.push(Date.now() - joinStarted);
  let cards = [...plan.cards];
  journal.waiting++;
  let waitingNow = true;
  const stopWaiting = () => {
    if (waitingNow) journal.waiting--;
    waitingNow = false;
  };
  try {
    for (;;) {
      // In the queue: wait for our turn (or leave on purpose).
      const queuedAt = Date.now();
      const leave = plan.leaveQueueAfterMs !== undefined ? sleep(plan.leaveQueueAfterMs) : new Promise<void>(() => {});
      const turn = await sock.next(['admitted', 'sold_out', 'closed'], Promise.race([env.giveUp, leave]));
      if (!turn) {
        stopWaiting();
        if (plan.leaveQueueAfterMs !== undefined && !sock.closed) return finish(sock, 'left_queue');
        return finish(sock, 'not_told');
      }
      if (turn.type === 'sold_out') {
        if (!turn.final) continue; // stock may come back: stay in line
        stopWaiting();
        return finish(sock, 'sold_out');
      }
      if (turn.type === 'closed') {
        stopWaiting();
        return finish(sock, 'closed');
      }
      stopWaiting();
      journal.latencies.queue_wait.push(Date.now() - queuedAt);
      journal.admitted++;
      journal.funnel.admitted++;
      journal.event('admitted');
      await sleep(plan.thinkMs);

      const t = Date.now();
      const reserved = await http(env, i, 'POST', `/api/sales/${env.saleId}/reservations`, token, { 'admission-token': turn.admissionToken, 'idempotency-key': randomUUID() }, { quantity: 1 });
      journal.latencies.reserve.push(Date.now() - t);
      if (reserved.status !== 201) {
        const code = reserved.body?.error?.code;
        if (code === 'sold_out') return finish(sock, 'sold_out');
        if (code === 'sale_not_open' || code === 'sale_closed') return finish(sock, 'closed');
        journal.problem(`shopper ${i}: reserve answered ${reserved.status} ${code ?? ''}`);
        return finish(sock, 'not_told');
      }
      const rid = String(reserved.body.reservationId);
      journal.held++;
      journal.funnel.reserved++;
      journal.event('reserved');
      if (plan.leaveHold) {
        if (plan.leaveHold === 'release') {
          const r = await http(env, i, 'DELETE', `/api/reservations/${rid}`, token);
          if (r.status >= 300) journal.problem(`shopper ${i}: release answered ${r.status}`);
        }
        journal.held--;
        return finish(sock, 'left_hold');
      }
      await sleep(plan.thinkMs);

      const card = cards.shift() ?? 'pm_card_ok';
      const c = Date.now();
      const out = await http(env, i, 'POST', `/api/reservations/${rid}/checkout`, token, { 'idempotency-key': randomUUID() }, { paymentMethod: card });
      journal.latencies.checkout.push(Date.now() - c);
      if (out.status !== 202) {
        journal.held--;
        if (out.body?.error?.code === 'hold_expired') return finish(sock, 'hold_expired');
        journal.problem(`shopper ${i}: checkout answered ${out.status} ${out.body?.error?.code ?? ''}`);
        return finish(sock, 'not_told');
      }
      journal.checkedOut.push(rid);
      journal.funnel.checkedOut++;
      const status = await orderOutcome(env, i, token, sock, String(out.body.orderId));
      journal.held--;
      journal.latencies.settle.push(Date.now() - c);
      if (status === 'paid') {
        journal.paid++;
        journal.funnel.paid++;
        journal.event('paid');
        return finish(sock, 'paid');
      }
      if (status !== 'failed') return finish(sock, 'not_told');
      journal.event('declined');
      if (cards.length === 0) {
        journal.failed++;
        return finish(sock, 'declined');
      }
      // Retry with the next card: the decline released the hold and the admission was used, so queue
      // again. The socket first answers that the place is gone (not_queued), then a join queues anew.
      sock.drain();
      sock.send({ type: 'join' });
      journal.waiting++;
      waitingNow = true;
      let again = await sock.next(['queued', 'closed', 'error'], env.giveUp);
      if (again?.type === 'error' && again.code === 'not_queued') {
        sock.send({ type: 'join' });
        again = await sock.next(['queued', 'closed', 'error'], env.giveUp);
      }
      if (again?.type !== 'queued') {
        stopWaiting();
        return finish(sock, again?.type === 'closed' ? 'closed' : 'not_told');
      }
    }
  } catch (err) {
    stopWaiting();
    journal.problem(`shopper ${i}: ${(err as Error).message}`);
    return finish(sock, 'not_told');
  }

  function finish(s: QueueSocket, outcome: Outcome): Outcome {
    if (outcome === 'not_told' || outcome === 'closed') journal.problem(`shopper ${i} ${outcome === 'closed' ? 'was still waiting when the sale closed' : 'was not told an outcome'}; socket messages: ${s.trail.join(' ') || 'none'}`);
    s.close();
    journal.outcomes.set(i, outcome);
    return outcome;
  }
}

/** The order's final status: pushed on the queue socket, or polled when the push does not come. */
async function orderOutcome(env: ShopperEnv, i: number, token: string, sock: QueueSocket, orderId: string): Promise<string | undefined> {
  const deadline = Date.now() + 120_000;
  const pushWait = sleep(10_000);
  for (;;) {
    const m = await sock.next(['order'], Promise.race([pushWait, env.giveUp]));
    if (!m) break;
    if (m.orderId === orderId) return m.status;
  }
  while (Date.now() < deadline) {
    const r = await http(env, i, 'GET', `/api/orders/${orderId}`, token);
    if (r.status === 200 && r.body.status !== 'pending') return r.body.status;
    await Promise.race([sleep(1_000), env.giveUp.then(() => sleep(10_000))]);
  }
  return undefined;
}
