import { STATUS_CODES } from 'node:http';
import type { Context } from '../infra/context.js';
import { AppError } from '../infra/errors.js';
import { parseId } from '../infra/http.js';
import { userFromToken } from '../infra/auth.js';
import type { us_socket_context_t } from 'uWebSockets.js';
import uws, { type HttpResponse, type TemplatedApp } from '../infra/uws.js';
import { checkAccountAge, getSale, saleEnded, takeAddressPlace, type Sale } from '../reservation/index.js';
import type { Conn, Hub, Socket } from './hub.js';
import { CLOSE, msg } from './messages.js';
import { checkPow } from './pow.js';
import { moveSocket } from './socket-state.js';
import { joinQueue, leaveQueue } from './queue.js';
import { NO_TIER } from './room.js';

/** Limits of a waiting-room socket. */
export const WS_LIMITS = {
  /** Messages up to this size are read (and refused with an error when over `maxMessageBytes`). */
  maxPayloadLength: 16 * 1024,
  maxMessageBytes: 4 * 1024,
  /** Bad messages (garbage, binary, oversized, unknown) before the socket is closed. */
  maxStrikes: 5,
  /** Messages per second a client may send (it needs almost none). */
  maxMessagesPerSecond: 20,
  /**
   * Seconds without traffic before uWS closes a socket. The hub pings every socket every 16 s (pinger.ts,
   * instead of uWS's own pings) and a pong is traffic, so only dead peers reach it.
   */
  idleTimeout: 32,
  maxBackpressure: 64 * 1024,
};

function refuse(res: HttpResponse, state: { aborted: boolean }, err: AppError): void {
  if (state.aborted) return;
  state.aborted = true;
  res.cork(() => {
    res.writeStatus(`${err.status} ${STATUS_CODES[err.status] ?? ''}`).writeHeader('content-type', 'application/json').end(JSON.stringify(err.toJSON()));
  });
}

/** Records a bad message: an error back, and the socket closed after too many. */
function strike(hub: Hub, ws: Socket, code: string, message: string): void {
  const c = ws.getUserData();
  c.strikes += 1;
  if (c.strikes >= WS_LIMITS.maxStrikes) {
    hub.end(ws, msg.error(code, `${message}; too many bad messages, closing`), CLOSE.abuse, 'too many bad messages');
    return;
  }
  hub.send(ws, msg.error(code, message));
}

/** Joins (or rejoins) the queue for an open socket; checks the queue's hours and the proof of work. */
async function join(ctx: Context, hub: Hub, ws: Socket): Promise<void> {
  const c = ws.getUserData();
  const sale = await getSale(ctx, c.room.saleId);
  if (c.closed) return;
  const now = Date.now();
  if (!sale || saleEnded(sale, now)) {
    moveSocket(c, 'done');
    hub.end(ws, msg.closed(), CLOSE.saleClosed, 'sale closed');
    return;
  }
  if (now < sale.queueOpensAt.getTime()) {
    moveSocket(c, 'done');
    hub.end(ws, msg.error('queue_not_open', `the queue opens at ${sale.queueOpensAt.toISOString()}`), CLOSE.notOpen, 'queue not open');
    return;
  }
  if (!checkPow(sale.id, c.userId, c.pow, sale.powDifficulty)) {
    moveSocket(c, 'pow');
    const text = `send {"type":"join","pow":"<nonce>"} where sha256("fs-pow:${sale.id}:${c.userId}:<nonce>") starts with ${sale.powDifficulty} zero bits`;
    hub.send(ws, msg.error('pow_required', text, { difficulty: sale.powDifficulty }));
    return;
  }
  moveSocket(c, 'joining');
  const [place] = await Promise.all([joinQueue(ctx, sale, c.userId, hub.connIdOf(c), true), hub.noteSale(sale.id)]);
  if (c.closed) {
    // closed while joining: make sure the grace period starts
    await leaveQueue(ctx, sale.id, c.userId, hub.connIdOf(c));
    return;
  }
  if (place.kind !== 'closed') hub.register(ws, place.previousConn);
  hub.deliver(ws, place, true);
}

/** Answers a status request or resyncs a socket after dropped messages. */
async function status(ctx: Context, hub: Hub, ws: Socket): Promise<void> {
  const c = ws.getUserData();
  const sale = await getSale(ctx, c.room.saleId);
  if (!sale || c.closed) return;
  const place = await joinQueue(ctx, sale, c.userId, hub.connIdOf(c), false);
  hub.deliver(ws, place, false);
}

function onMessage(ctx: Context, hub: Hub, ws: Socket, data: ArrayBuffer, isBinary: boolean): void {
  const c = ws.getUserData();
  const second = Math.floor(Date.now() / 1000);
  if (second !== c.windowStart) {
    c.windowStart = second;
    c.messages = 0;
  }
  if (++c.messages > WS_LIMITS.maxMessagesPerSecond) return strike(hub, ws, 'rate_limited', `at most ${WS_LIMITS.maxMessagesPerSecond} messages a second`);
  if (isBinary) return strike(hub, ws, 'binary_not_supported', 'send JSON text frames');
  if (data.byteLength > WS_LIMITS.maxMessageBytes) return strike(hub, ws, 'message_too_large', `messages are at most ${WS_LIMITS.maxMessageBytes} bytes`);
  let m: unknown;
  try {
    m = JSON.parse(Buffer.from(data).toString('utf8')); // decoded before returning: uWS reuses the buffer
  } catch {
    return strike(hub, ws, 'invalid_json', 'messages must be JSON');
  }
  const type = m && typeof m === 'object' && !Array.isArray(m) ? (m as { type?: unknown }).type : undefined;
  const fail = (err: unknown) => {
    ctx.log.warn({ err, saleId: c.room.saleId }, 'waiting-room socket step failed');
    hub.send(ws, msg.error('internal', 'something went wrong; try again'));
  };
  switch (type) {
    case 'ping':
      hub.send(ws, msg.pong());
      return;
    case 'status':
      if (c.state === 'joining' || c.state === 'pow') return;
      void status(ctx, hub, ws).catch(fail);
      return;
    case 'join': {
      if (c.state !== 'pow' && c.state !== 'done') return void status(ctx, hub, ws).catch(fail);
      const pow = (m as { pow?: unknown }).pow;
      c.pow = typeof pow === 'string' ? pow : null;
      void join(ctx, hub, ws).catch(fail);
      return;
    }
    default:
      return strike(hub, ws, 'unknown_type', 'type must be one of join, status, ping');
  }
}

/** `WS /ws/sales/:id?token=<userToken>[&pow=<nonce>]`: the live queue. */
export function mountQueueSocket(ctx: Context, hub: Hub, app: TemplatedApp): void {
  hub.app = app;
  app.ws<Conn>('/ws/sales/:id', {
    maxPayloadLength: WS_LIMITS.maxPayloadLength,
    idleTimeout: WS_LIMITS.idleTimeout,
    sendPingsAutomatically: false,
    maxBackpressure: WS_LIMITS.maxBackpressure,
    compression: uws.DISABLED,
    upgrade: (res, req, context: us_socket_context_t) => {
      // everything from req is read now: it is gone after the first await
      const state = { aborted: false };
      res.onAborted(() => {
        state.aborted = true;
      });
      const saleId = req.getParameter(0) ?? '';
      const query = new URLSearchParams(req.getQuery() ?? '');
      const key = req.getHeader('sec-websocket-key');
      const protocol = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      const pow = query.get('pow');
      const userId = userFromToken(ctx, query.get('token') ?? undefined);
      if (!userId) return refuse(res, state, new AppError('unauthorized', 'a valid user token is required as ?token='));
      if (!parseId(saleId)) return refuse(res, state, new AppError('not_found', 'sale not found'));
      const ip = hub.takeIp(Buffer.from(res.getRemoteAddressAsText()).toString());
      if (ip === null) return refuse(res, state, new AppError('too_many_requests', 'too many connections from this address'));
      // The sale's anti-bot options (reservation/anti-bot.ts) are checked before the socket opens.
      const checked = (sale: Sale | null) =>
        sale && sale.waitingRoom ? checkAccountAge(ctx, sale, userId).then(() => takeAddressPlace(ctx, sale, userId, ip)).then(() => sale) : sale;
      getSale(ctx, saleId).then(checked).then(
        (sale) => {
          if (state.aborted) return hub.releaseIp(ip);
          if (!sale) return hub.releaseIp(ip), refuse(res, state, new AppError('not_found', 'sale not found'));
          if (!sale.waitingRoom) return hub.releaseIp(ip), refuse(res, state, new AppError('no_waiting_room', 'this sale has no waiting room'));
          state.aborted = true;
          const conn: Conn = {
            room: hub.room(sale), userId, seq: hub.nextSeq(), ip, pow, state: 'joining', ticket: null, tier: NO_TIER,
            closed: false, strikes: 0, windowStart: 0, messages: 0, resync: false,
          };
          res.cork(() => res.upgrade(conn, key, protocol, extensions, context));
        },
        (err) => {
          hub.releaseIp(ip);
          if (err instanceof AppError) return refuse(res, state, err);
          ctx.log.error({ err, saleId }, 'waiting-room upgrade failed');
          refuse(res, state, new AppError('unavailable', 'try again'));
        },
      );
    },
    open: (ws) => {
      hub.pinger.add(ws);
      void join(ctx, hub, ws).catch((err) => {
        ctx.log.warn({ err }, 'waiting-room join failed');
        hub.end(ws, msg.error('unavailable', 'could not join the queue; reconnect'), 1011, 'join failed');
      });
    },
    message: (ws, data, isBinary) => onMessage(ctx, hub, ws, data, isBinary),
    drain: (ws) => {
      const c = ws.getUserData();
      if (c.resync && ws.getBufferedAmount() < WS_LIMITS.maxBackpressure / 2) {
        c.resync = false;
        void status(ctx, hub, ws).catch(() => {});
      }
    },
    close: (ws) => {
      const c = ws.getUserData();
      c.closed = true;
      hub.pinger.delete(ws);
      hub.releaseIp(c.ip);
      // the grace period starts, unless the socket ended because the place is over (sale closed) or the gateway stops
      if (hub.unregister(ws) && !hub.stopping && c.state !== 'done') {
        void leaveQueue(ctx, c.room.saleId, c.userId, hub.connIdOf(c)).catch((err) => ctx.log.warn({ err }, 'waiting-room leave failed'));
      }
    },
  });
}
