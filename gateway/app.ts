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

export function healthRoute(ctx: Context): Route {
  return {
    method: 'get',
    path: '/healthz',
    handler: async () => {
      try {
        await Promise.all([ctx.redis.ping(), ctx.db.query('SELECT 1')]);
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
