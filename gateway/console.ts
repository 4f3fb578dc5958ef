import { timingSafeEqual } from 'node:crypto';
import type { Context } from '../infra/context.js';
import type { Figures, Mount } from '../infra/part.js';
import uws, { type TemplatedApp, type WebSocket } from '../infra/uws.js';

/**
 * The merchant console's live feed: `WS /admin/ws/sales/:id`. A browser cannot put the admin key in an
 * upgrade's headers, so the first message authenticates: `{"type":"auth","key":"<ADMIN_API_KEY>"}` within
 * 5 s (else close 4401). The server then sends `{"type":"history","samples":[...]}` (what this gateway
 * sampled in the last 10 minutes) and a `{"type":"sample","sample":{...}}` every second.
 *
 * A sample merges what each part reports for the sale (`Part.figures`: stock from reservation, line from
 * the waiting room, orders from settlement) with what follows from them: per-second rates from the
 * previous sample, the integrity line `quantity = remaining + held + sold`, the Redis-vs-Postgres drift
 * (units sold in Redis minus units in paid orders) and the oversell count (units sold past the quantity,
 * which must stay 0). A sale is sampled only while someone watches it on this gateway.
 */


export const CONSOLE_INTERVAL_MS = 1000;
const HISTORY_MS = 10 * 60_000;
const AUTH_TIMEOUT_MS = 5000;

export interface Sample {
  t: number;
  [name: string]: unknown;
}

interface Watcher {
  saleId: string;
  authed: boolean;
  closed: boolean;
  timer?: ReturnType<typeof setTimeout>;
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** What follows from one sample and the one before it. */
export function derive(s: Sample, prev: Sample | undefined): Sample {
  const quantity = num(s.quantity);
  const sum = num(s.remaining) + num(s.held) + num(s.sold);
  const out: Sample = {
    ...s,
    integrity: { quantity, sum, ok: quantity === sum || s.status === 'scheduled' },
    drift: num(s.sold) - num(s.paidUnits),
    oversell: Math.max(0, Math.max(num(s.sold), num(s.paidUnits)) - quantity),
  };
  const dt = prev ? (s.t - prev.t) / 1000 : 0;
  const rate = (name: string) => (prev && dt > 0 ? Math.max(0, (num(s[name]) - num(prev[name])) / dt) : 0);
  out.reservationsPerSecond = rate('reservations');
  out.paidPerSecond = rate('paidOrders');
  out.failedPerSecond = rate('failedOrders');
  out.declinesPerSecond = rate('declines');
  return out;
}

export class ConsoleFeed {
  readonly history = new Map<string, Sample[]>();
  private readonly watchers = new Map<string, number>();
  private readonly timers = new Map<string, ReturnType<typeof setInterval>>();
  private app: TemplatedApp | null = null;

  constructor(
    private readonly ctx: Context,
    private readonly figures: Figures[],
  ) {}

  /** One sample of a sale, or null when there is no such sale. */
  async sample(saleId: string): Promise<Sample | null> {
    // The first part that reports (reservation: the sale itself) says whether the sale exists.
    const [first, ...rest] = this.figures;
    const head = first ? await first(saleId) : null;
    if (head === null) return null;
    const s: Sample = { t: Date.now(), ...head };
    for (const p of await Promise.all(rest.map((f) => f(saleId)))) Object.assign(s, p);
    const h = this.history.get(saleId) ?? [];
    const out = derive(s, h[h.length - 1]);
    h.push(out);
    while (h.length && h[0].t < out.t - HISTORY_MS) h.shift();
    this.history.set(saleId, h);
    return out;
  }

  watch(saleId: string): void {
    const n = (this.watchers.get(saleId) ?? 0) + 1;
    this.watchers.set(saleId, n);
    if (n > 1) return;
    const tick = () => {
      this.sample(saleId).then(
        (s) => {
          if (s && this.app) this.app.publish(`console/${saleId}`, JSON.stringify({ type: 'sample', sample: s }));
        },
        (err) => this.ctx.log.warn({ err, saleId }, 'console sample failed'),
      );
    };
    this.timers.set(saleId, setInterval(tick, CONSOLE_INTERVAL_MS));
  }

  unwatch(saleId: string): void {
    const n = (this.watchers.get(saleId) ?? 1) - 1;
    if (n > 0) return void this.watchers.set(saleId, n);
    this.watchers.delete(saleId);
    clearInterval(this.timers.get(saleId));
    this.timers.delete(saleId);
  }

  stop(): void {
    for (const t of this.timers.values()) clearInterval(t);
    this.timers.clear();
  }

  mount(): Mount {
    return (app) => {
      this.app = app;
      app.ws<Watcher>('/admin/ws/sales/:id', {
        maxPayloadLength: 4096,
        idleTimeout: 60,
        maxBackpressure: 1024 * 1024,
        compression: uws.DISABLED,
        upgrade: (res, req, context) => {
          const watcher: Watcher = { saleId: req.getParameter(0) ?? '', authed: false, closed: false };
          res.upgrade(watcher, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
        },
        open: (ws) => {
          const w = ws.getUserData();
          w.timer = setTimeout(() => !w.closed && !w.authed && ws.end(4401, 'no auth message'), AUTH_TIMEOUT_MS);
        },
        message: (ws, data, isBinary) => {
          const w = ws.getUserData();
          if (w.authed) return; // the console only listens after authenticating
          let m: { type?: unknown; key?: unknown } = {};
          try {
            m = isBinary ? {} : JSON.parse(Buffer.from(data).toString('utf8'));
          } catch {
            /* not JSON: refused below */
          }
          if (m?.type !== 'auth' || typeof m.key !== 'string' || !this.keyOk(m.key)) {
            ws.send(JSON.stringify({ type: 'error', code: 'unauthorized', message: 'the admin API key is required' }));
            return void ws.end(4401, 'unauthorized');
          }
          this.authed(ws);
        },
        close: (ws) => {
          const w = ws.getUserData();
          w.closed = true;
          clearTimeout(w.timer);
          if (w.authed) this.unwatch(w.saleId);
        },
      });
    };
  }

  private keyOk(given: string): boolean {
    const a = Buffer.from(given);
    const b = Buffer.from(this.ctx.config.adminApiKey);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  private authed(ws: WebSocket<Watcher>): void {
    const w = ws.getUserData();
    clearTimeout(w.timer);
    this.sample(w.saleId).then(
      (s) => {
        if (w.closed) return;
        if (!s) {
          ws.send(JSON.stringify({ type: 'error', code: 'not_found', message: 'sale not found' }));
          return void ws.end(4404, 'sale not found');
        }
        w.authed = true;
        ws.cork(() => {
          ws.send(JSON.stringify({ type: 'history', saleId: w.saleId, intervalMs: CONSOLE_INTERVAL_MS, samples: this.history.get(w.saleId) ?? [s] }));
          ws.subscribe(`console/${w.saleId}`);
        });
        this.watch(w.saleId);
      },
      (err) => {
        this.ctx.log.warn({ err }, 'console sample failed');
        if (!w.closed) ws.end(1011, 'try again');
      },
    );
  }
}
