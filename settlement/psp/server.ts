import { createServer, type AddressInfo } from 'node:net';
import { z } from 'zod';
import uws, { type HttpResponse, type TemplatedApp, type us_listen_socket } from '../../infra/uws.js';
import { AppError } from '../../infra/errors.js';
import type { Logger } from '../../infra/logger.js';
import { createLogger } from '../../infra/logger.js';
import { open as openConn, type Conn, send, fail, drop, readBody, holdUntilAbort } from './conn.js';
import { behaviourOf, parseFailureRate, parseLatency, pickLatency, PAYMENT_METHODS, type Latency } from './methods.js';
import { chargeBody, pspOpenApi, refundBody } from './api.js';
import { PspStats } from './stats.js';
import { PspStore, type ChargeRecord, type RefundRecord } from './store.js';

/**
 * The bundled PSP simulator: a small Stripe-like HTTP API over uWebSockets.js.
 *
 *   POST /v1/charges          {amountCents, currency?, paymentMethod, metadata?} + Idempotency-Key header
 *   GET  /v1/charges?idempotencyKey=K  {object:'list', data:[charge]|[]}
 *   GET  /v1/charges/by-key/:key (charge or 404), GET /v1/charges/:id
 *   POST /v1/refunds          {chargeId} + Idempotency-Key header
 *   GET  /v1/stats            counters (charges created, attempts per key with ?key= or ?perKey=1)
 *
 * The same key always gets the same answer (same charge id, same status), also after a restart: every
 * record is on disk (store.ts) before anyone hears of it. A key reused with other parameters is a 409.
 */
export interface PspOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  dataDir: string;
  /** Added before every answer: fixed ms or a [min, max] range. */
  latencyMs?: Latency;
  /** Share of requests (0..1) that fail on purpose: half with a 503 before anything happens, half with a
   * 500 after the charge was made (the client cannot tell which). */
  failureRate?: number;
  /** Longest a pm_card_timeout answer is held when the client never gives up. */
  hangMs?: number;
  log?: Logger;
}

export interface PspServer {
  port: number;
  url: string;
  stats: PspStats;
  close: () => Promise<void>;
}

/** Options from PSP_PORT, PSP_DATA_DIR, PSP_LATENCY_MS, PSP_FAILURE_RATE, PSP_HANG_MS, PSP_HOST. */
export function pspOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): PspOptions {
  return {
    port: wholeNumber(env.PSP_PORT, 'PSP_PORT', 4010, 65535),
    host: env.PSP_HOST || '127.0.0.1',
    dataDir: env.PSP_DATA_DIR || `${env.DATA_DIR || '.data'}/psp`,
    latencyMs: parseLatency(env.PSP_LATENCY_MS),
    failureRate: parseFailureRate(env.PSP_FAILURE_RATE),
    hangMs: env.PSP_HANG_MS ? wholeNumber(env.PSP_HANG_MS, 'PSP_HANG_MS', 60_000) : undefined,
  };
}

export function wholeNumber(raw: string | undefined, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new Error(`${name} must be a whole number from 0 to ${max}, got "${raw}"`);
  return n;
}

const key = z.string().min(1).max(255);

export function chargeJson(c: ChargeRecord) {
  return {
    id: c.id,
    object: 'charge',
    idempotencyKey: c.idempotencyKey,
    status: c.status,
    amountCents: c.amountCents,
    currency: c.currency,
    paymentMethod: c.paymentMethod,
    metadata: c.metadata,
    refunded: c.refundId !== undefined,
    createdAt: c.createdAt,
  };
}

const refundJson = (r: RefundRecord) => ({ ...r, object: 'refund', status: 'succeeded' });

function requireKey(raw: string): string {
  if (!raw) throw new AppError('invalid_request', 'the Idempotency-Key header is required', 'Idempotency-Key');
  const parsed = key.safeParse(raw);
  if (!parsed.success) throw new AppError('invalid_request', 'Idempotency-Key must be 1 to 255 characters', 'Idempotency-Key');
  return raw;
}

export async function startPspServer(opts: PspOptions): Promise<PspServer> {
  const log = opts.log ?? createLogger(process.env.LOG_LEVEL ?? 'info', 'psp');
  const latency = opts.latencyMs ?? 0;
  const failureRate = opts.failureRate ?? 0;
  const hangMs = opts.hangMs ?? 60_000;
  const store = await PspStore.open(opts.dataDir);
  const stats = new PspStats(store);
  const timers = new Set<NodeJS.Timeout>();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });
  const delay = () => {
    const ms = pickLatency(latency);
    return ms > 0 ? sleep(ms) : undefined;
  };
  /** 'before': fail without doing anything; 'after': do it, then answer 500 anyway. */
  const chaos = (): 'before' | 'after' | undefined => {
    if (failureRate <= 0 || Math.random() >= failureRate) return undefined;
    stats.injectedFailures++;
    return Math.random() < 0.5 ? 'before' : 'after';
  };
  const unavailable = (why: string) => new AppError('unavailable', `simulated PSP failure: ${why}`);
  const checkStore = () => {
    if (store.broken) throw new AppError('unavailable', 'the simulator cannot write its log');
  };

  async function charge(c: Conn, idempotencyKey: string, body: unknown): Promise<void> {
    checkStore();
    stats.attempt(idempotencyKey);
    const input = chargeBody.parse(body);
    const behaviour = behaviourOf(input.paymentMethod, idempotencyKey);
    if (!behaviour) {
      throw new AppError('invalid_request', `paymentMethod: unknown test method (use one of ${PAYMENT_METHODS.join(', ')})`, 'paymentMethod');
    }
    const failure = chaos();
    if (failure === 'before') {
      await delay();
      throw unavailable('injected failure before charging');
    }
    let record = store.chargeByKey(idempotencyKey);
    if (record) {
      if (record.amountCents !== input.amountCents || record.currency !== input.currency || record.paymentMethod !== input.paymentMethod) {
        throw new AppError(
          'idempotency_conflict',
          `Idempotency-Key was first used with other parameters (amountCents ${record.amountCents}, currency ${record.currency}, paymentMethod ${record.paymentMethod})`,
        );
      }
    } else {
      const fields = { idempotencyKey, status: behaviour.outcome, amountCents: input.amountCents, currency: input.currency, paymentMethod: input.paymentMethod, metadata: input.metadata ?? {} };
      if (behaviour.flaky && !store.flakyConsumed(idempotencyKey)) {
        if (behaviour.flaky === 'error') {
          await store.consumeFlaky(idempotencyKey);
          await delay();
          throw unavailable('pm_card_flaky first attempt');
        }
        record = store.createCharge(fields);
        await Promise.all([store.durable(record), store.consumeFlaky(idempotencyKey)]);
        await delay();
        drop(c); // charged, but the client never hears it
        return;
      }
      record = store.createCharge(fields);
    }
    await store.durable(record);
    await delay();
    if (behaviour.hang) await holdUntilAbort(c, hangMs, sleep);
    if (failure === 'after') throw new AppError('internal', 'simulated PSP failure: injected failure after charging');
    if (record.status === 'declined') {
      send(c, 402, { error: { code: 'card_declined', message: 'Your card was declined.', declineCode: 'generic_decline', charge: chargeJson(record) } });
    } else {
      send(c, 200, chargeJson(record));
    }
  }

  /** `list`: Stripe-style search answer (200 with 0 or 1 items), else the charge or 404. */
  async function lookup(c: Conn, idempotencyKey: string, list: boolean): Promise<void> {
    stats.requests.lookup++;
    if (!key.safeParse(idempotencyKey).success) throw new AppError('invalid_request', 'idempotencyKey must be 1 to 255 characters', 'idempotencyKey');
    if (chaos()) {
      await delay();
      throw unavailable('injected failure');
    }
    const record = store.chargeByKey(idempotencyKey);
    if (record) await store.durable(record);
    await delay();
    if (list) return send(c, 200, { object: 'list', data: record ? [chargeJson(record)] : [] });
    if (!record) throw new AppError('not_found', 'no charge was made with this Idempotency-Key');
    send(c, 200, chargeJson(record));
  }

  async function refund(c: Conn, idempotencyKey: string, body: unknown): Promise<void> {
    checkStore();
    stats.requests.refund++;
    const { chargeId } = refundBody.parse(body);
    const failure = chaos();
    if (failure === 'before') {
      await delay();
      throw unavailable('injected failure before refunding');
    }
    let record = store.refundByKey(idempotencyKey);
    if (record) {
      if (record.chargeId !== chargeId) throw new AppError('idempotency_conflict', `Idempotency-Key was first used to refund ${record.chargeId}`);
    } else {
      const charge = store.chargeById(chargeId);
      if (!charge) throw new AppError('not_found', `no charge ${chargeId}`);
      if (charge.status !== 'succeeded') throw new AppError('invalid_state', `charge ${chargeId} was declined; there is nothing to refund`);
      if (charge.refundId) {
        await delay();
        send(c, 409, { error: { code: 'charge_already_refunded', message: `charge ${chargeId} was already refunded`, refundId: charge.refundId } });
        return;
      }
      record = store.createRefund(charge, idempotencyKey);
    }
    await store.durable(record);
    await delay();
    if (failure === 'after') throw new AppError('internal', 'simulated PSP failure: injected failure after refunding');
    send(c, 200, refundJson(record));
  }

  let closed = false;
  const app: TemplatedApp = uws.App();
  const guard = (c: Conn, work: Promise<void>) => work.catch((err) => fail(c, err, log));
  /** uWS cannot close idle keep-alive connections; after close() a request on one is dropped unanswered. */
  const open = (res: HttpResponse, method: string, path: string): Conn => {
    const c = openConn(res, method, path);
    if (closed) drop(c);
    return c;
  };

  app.post('/v1/charges', (res, req) => {
    const c = open(res, 'POST', '/v1/charges');
    if (c.done) return;
    const rawKey = req.getHeader('idempotency-key');
    const body = readBody(res, Number(req.getHeader('content-length') || 0));
    void guard(c, (async () => charge(c, requireKey(rawKey), await body))());
  });
  app.get('/v1/charges', (res, req) => {
    const c = open(res, 'GET', '/v1/charges');
    if (c.done) return;
    const k = new URLSearchParams(req.getQuery() ?? '').get('idempotencyKey') ?? '';
    if (!k) return fail(c, new AppError('invalid_request', 'idempotencyKey: query parameter is required', 'idempotencyKey'), log);
    void guard(c, lookup(c, k, true));
  });
  app.get('/v1/charges/by-key/:key', (res, req) => {
    const c = open(res, 'GET', '/v1/charges/by-key');
    if (c.done) return;
    void guard(c, lookup(c, decodeURIComponentSafe(req.getParameter(0) ?? ''), false));
  });
  app.get('/v1/charges/:id', (res, req) => {
    const c = open(res, 'GET', '/v1/charges/:id');
    if (c.done) return;
    const record = store.chargeById(decodeURIComponentSafe(req.getParameter(0) ?? ''));
    if (!record) return fail(c, new AppError('not_found', 'no such charge'), log);
    void guard(c, store.durable(record).then(() => send(c, 200, chargeJson(record))));
  });
  app.post('/v1/refunds', (res, req) => {
    const c = open(res, 'POST', '/v1/refunds');
    if (c.done) return;
    const rawKey = req.getHeader('idempotency-key');
    const body = readBody(res, Number(req.getHeader('content-length') || 0));
    void guard(c, (async () => refund(c, requireKey(rawKey), await body))());
  });
  app.get('/v1/stats', (res, req) => {
    const c = open(res, 'GET', '/v1/stats');
    if (c.done) return;
    const q = new URLSearchParams(req.getQuery() ?? '');
    send(c, 200, stats.toJSON({ key: q.get('key') ?? undefined, perKey: q.get('perKey') === '1' || q.get('perKey') === 'true' }));
  });
  app.get('/healthz', (res) => send(open(res, 'GET', '/healthz'), 200, { ok: true }));
  app.get('/openapi.json', (res) => send(open(res, 'GET', '/openapi.json'), 200, JSON.parse(pspOpenApi())));
  app.any('/*', (res, req) => {
    const c = open(res, req.getMethod().toUpperCase(), req.getUrl());
    if (c.done) return;
    fail(c, new AppError('not_found', 'no such route'), log);
  });

  const host = opts.host ?? '127.0.0.1';
  let socket: us_listen_socket;
  try {
    const wanted = await claimPort(host, opts.port ?? 0);
    socket = await new Promise<us_listen_socket>((resolve, reject) => {
      app.listen(host, wanted, (s: us_listen_socket | false) => (s ? resolve(s) : reject(new Error(`PSP simulator cannot listen on ${host}:${wanted}`))));
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  const port = uws.us_socket_local_port(socket);
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  log.info({ port, dataDir: opts.dataDir, latencyMs: latency, failureRate, charges: store.chargeCount }, `PSP simulator listening on ${url}`);

  return {
    port,
    url,
    stats,
    close: async () => {
      if (closed) return;
      closed = true;
      uws.us_listen_socket_close(socket);
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await store.close();
    },
  };
}

/**
 * Checks that host:port is free (or picks a free port for 0) with a plain Node socket before uWS binds it.
 * uWS sets SO_REUSEADDR and SO_REUSEPORT only for an explicit port: SO_REUSEADDR is what lets a restarted
 * simulator take its port back while the killed one's connections sit in TIME_WAIT, but SO_REUSEPORT would
 * also let a second simulator share the port (and split the idempotency records in two). Node's probe
 * socket has no SO_REUSEPORT, so it fails while any simulator is listening.
 */
function claimPort(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`PSP simulator cannot listen on ${host}:${port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}`)),
    );
    probe.listen(port, host, () => {
      const { port: free } = probe.address() as AddressInfo;
      probe.close(() => resolve(free));
    });
  });
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
