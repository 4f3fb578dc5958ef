import WebSocket from 'ws';
import type { TestEngine } from './engine.js';
import { eventually } from './sales.js';

/** Test helpers for the waiting room (not a test file itself). */

export interface QueueSaleOptions {
  quantity?: number;
  perUserLimit?: number;
  holdSeconds?: number;
  startsInMs?: number;
  endsInMs?: number;
  queueOpensInMs?: number;
  batchSize?: number;
  intervalMs?: number;
  windowSeconds?: number;
  overAdmissionFactor?: number;
  powDifficulty?: number;
  waitingRoom?: boolean;
}

type Api = TestEngine['api'];

/** Creates a product and a waiting-room sale through the admin API; waits for it to open if it starts now. */
export async function makeQueueSale(api: Api, adminKey: string, o: QueueSaleOptions = {}): Promise<string> {
  const sku = `wr-${Math.random().toString(36).slice(2)}`;
  const quantity = o.quantity ?? 100;
  const product = await api('POST', '/admin/products', { token: adminKey, body: { sku, name: 'Console', priceCents: 49_900, stock: quantity } });
  if (product.status !== 201) throw new Error(`product: ${JSON.stringify(product.body)}`);
  const now = Date.now();
  const sale = await api('POST', '/admin/sales', {
    token: adminKey,
    body: {
      productId: product.body.id,
      quantity,
      priceCents: 19_900,
      startsAt: new Date(now + (o.startsInMs ?? 0)).toISOString(),
      endsAt: new Date(now + (o.endsInMs ?? 3_600_000)).toISOString(),
      perUserLimit: o.perUserLimit ?? 1,
      holdSeconds: o.holdSeconds ?? 300,
      waitingRoom: o.waitingRoom ?? true,
      admission: {
        batchSize: o.batchSize ?? 10,
        intervalMs: o.intervalMs ?? 100,
        windowSeconds: o.windowSeconds ?? 60,
        overAdmissionFactor: o.overAdmissionFactor ?? 1.5,
      },
      ...(o.queueOpensInMs !== undefined ? { queueOpensAt: new Date(now + o.queueOpensInMs).toISOString() } : {}),
      powDifficulty: o.powDifficulty ?? 0,
    },
  });
  if (sale.status !== 201) throw new Error(`sale: ${JSON.stringify(sale.body)}`);
  const saleId: string = sale.body.id;
  if (!o.startsInMs || o.startsInMs <= 0) {
    await eventually(async () => (await api('GET', `/admin/sales/${saleId}`, { token: adminKey })).body.status === 'open', 'the sale to open');
  }
  return saleId;
}

export interface Received {
  type: string;
  at: number;
  [k: string]: unknown;
}

/** A WebSocket test client that keeps every message it got. */
export class QueueClient {
  readonly messages: Received[] = [];
  closed: { code: number; reason: string } | null = null;
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? '' : data.toString();
      let m: Received;
      try {
        m = { ...JSON.parse(text), at: Date.now() };
      } catch {
        m = { type: '<unparsed>', raw: text, at: Date.now() };
      }
      this.messages.push(m);
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
    ws.on('error', () => {});
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  /** Connects; rejects with the HTTP status when the upgrade is refused. */
  static connect(baseUrl: string, saleId: string, token: string, extra: Record<string, string> = {}): Promise<QueueClient> {
    const url = `${baseUrl.replace(/^http/, 'ws')}/ws/sales/${saleId}?${new URLSearchParams({ token, ...extra })}`;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const client = new QueueClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })));
      ws.once('error', reject);
    });
  }

  of(type: string): Received[] {
    return this.messages.filter((m) => m.type === type);
  }

  /** Waits for a message matching `pred` (bounded, so a broken test fails instead of hanging). */
  async waitFor(pred: (m: Received) => boolean, what: string, timeoutMs = 15_000): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.messages.find(pred);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.messages.slice(-5))}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  waitType(type: string, timeoutMs?: number) {
    return this.waitFor((m) => m.type === type, type, timeoutMs);
  }

  async waitClosed(timeoutMs = 15_000): Promise<{ code: number; reason: string }> {
    await eventually(async () => this.closed, 'the socket to close', timeoutMs);
    return this.closed!;
  }

  send(data: string | Buffer, binary = false) {
    this.ws.send(data, { binary });
  }

  close() {
    this.ws.close();
  }

  /** Drops the connection without a close handshake (a lost phone signal). */
  kill() {
    this.ws.terminate();
  }
}

/**
 * The positions a client showed, in order, worked out as a client does: from `queued`/`position` messages
 * that carry a position, and from broadcasts (`serving`) with its ticket.
 */
export function shownPositions(c: QueueClient): number[] {
  let ticket: number | null = null;
  const out: number[] = [];
  for (const m of c.messages) {
    if (m.type === 'queued' && typeof m.ticket === 'number') {
      ticket = m.ticket;
      out.push(m.position as number);
    } else if (m.type === 'position' && typeof m.position === 'number') {
      out.push(m.position);
    } else if (m.type === 'position' && typeof m.serving === 'number' && ticket !== null) {
      out.push(Math.max(1, ticket - m.serving));
    }
  }
  return out;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
