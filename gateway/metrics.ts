import { performance } from 'node:perf_hooks';
import { timingSafeEqual } from 'node:crypto';
import { ZodError } from 'zod';
import type { Config } from '../infra/config.js';
import { AppError } from '../infra/errors.js';
import { histogram, renderMetrics } from '../infra/metrics.js';
import { bearer } from '../infra/auth.js';
import type { Handler, Reply, Route } from '../infra/http.js';

const requestDuration = histogram(
  'http_request_duration_seconds',
  'HTTP request duration from routing to the answer, by method, route template and status',
  ['method', 'route', 'status'],
  [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
);

function statusOf(err: unknown): number {
  if (err instanceof AppError) return err.status;
  if (err instanceof ZodError) return 400;
  return 500;
}

/**
 * Wraps a route's handler so that its duration lands in the histogram under the route's template
 * (`/api/sales/:id`, never the concrete path). The labelled series are looked up once per status.
 */
export function timed(route: Route): Route {
  const method = route.method === 'del' ? 'DELETE' : route.method.toUpperCase();
  const byStatus = new Map<number, ReturnType<typeof requestDuration.labels>>();
  const observe = (status: number, t0: number) => {
    let series = byStatus.get(status);
    if (!series) byStatus.set(status, (series = requestDuration.labels(method, route.path, String(status))));
    series.observe((performance.now() - t0) / 1000);
  };
  const inner = route.handler;
  const handler: Handler = (req) => {
    const t0 = performance.now();
    let reply: Promise<Reply> | Reply;
    try {
      reply = inner(req);
    } catch (err) {
      observe(statusOf(err), t0);
      throw err;
    }
    if (!(reply instanceof Promise)) {
      observe(reply.status, t0);
      return reply;
    }
    return reply.then(
      (r) => {
        observe(r.status, t0);
        return r;
      },
      (err) => {
        observe(statusOf(err), t0);
        throw err;
      },
    );
  };
  return { ...route, handler };
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** GET /metrics: the Prometheus text format, for `Bearer <METRICS_TOKEN>` (or the admin key when it is unset). */
export function metricsRoute(config: Config): Route {
  return {
    method: 'get',
    path: '/metrics',
    handler: async (req) => {
      const expected = config.metricsToken ?? config.adminApiKey;
      if (!sameSecret(bearer(req) ?? '', expected)) {
        throw new AppError('unauthorized', 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN> (the admin key when METRICS_TOKEN is unset)');
      }
      const { text, contentType } = await renderMetrics();
      return { status: 200, raw: text, headers: { 'content-type': contentType, 'cache-control': 'no-store' } };
    },
  };
}
