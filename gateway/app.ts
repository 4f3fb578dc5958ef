import type { Context } from '../infra/context.js';
import { AppError } from '../infra/errors.js';
import type { Route } from '../infra/http.js';
import type { Mount } from '../infra/part.js';
import { framingProblem, rejectFraming } from './framing.js';
import { register, sendReply } from './http.js';
import { metricsRoute, timed } from './metrics.js';
import { apiDocRoutes, gatewayApi } from './openapi.js';
import type { ApiDocs } from '../infra/openapi.js';
import uws, { type TemplatedApp, type us_listen_socket } from '../infra/uws.js';

export interface Gateway {
  app: TemplatedApp;
  /** The port actually bound (useful with port 0). */
  port: number;
  close: () => void;
}

/** How long /healthz waits for Redis and Postgres before it answers 503. */
export const HEALTH_TIMEOUT_MS = 700;

/** Resolves like `p`, or rejects after `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * 200 when Redis and Postgres both answer, else 503 `unavailable` within HEALTH_TIMEOUT_MS: a Redis that is
 * not connected is down at once (a PING would wait in ioredis's offline queue), a hung one or a Postgres
 * that does not answer in time is down too.
 */
export function healthRoute(ctx: Context): Route {
  return {
    method: 'get',
    path: '/healthz',
    handler: async () => {
      try {
        if (ctx.redis.status !== 'ready') throw new Error(`Redis connection is ${ctx.redis.status}`);
        await within(Promise.all([ctx.redis.ping(), ctx.db.query('SELECT 1')]), HEALTH_TIMEOUT_MS, 'Redis or Postgres');
        return { status: 200, body: { ok: true } };
      } catch {
        throw new AppError('unavailable', 'Redis or Postgres is not answering');
      }
    },
  };
}

export function createGateway(ctx: Context, routes: Route[], mounts: Mount[] = [], api: ApiDocs = {}): TemplatedApp {
  const app = uws.App();
  const opts = { log: ctx.log, maxBodyBytes: ctx.config.maxBodyBytes };
  const all = [healthRoute(ctx), metricsRoute(ctx.config), ...routes];
  for (const route of [...all, ...apiDocRoutes(all, { ...gatewayApi, ...api })]) register(app, timed(route), opts);
  for (const mount of mounts) mount(app);
  app.any('/*', (res, req) => {
    const framing = framingProblem(req, req.getHeader('content-length') || undefined);
    if (framing !== null) return rejectFraming(res, framing);
    sendReply(res, { status: 404, body: new AppError('not_found', 'no such route').toJSON() }, { aborted: false });
  });
  return app;
}

export function listen(app: TemplatedApp, host: string, port: number): Promise<Gateway> {
  return new Promise((resolve, reject) => {
    app.listen(host, port, (socket: us_listen_socket | false) => {
      if (!socket) return reject(new Error(`cannot listen on ${host}:${port}`));
      resolve({
        app,
        port: uws.us_socket_local_port(socket),
        close: () => uws.us_listen_socket_close(socket),
      });
    });
  });
}
