import { catalogRoutes } from '../gateway/routes/catalog.js';
import type { Part } from '../gateway/server.js';
import type { Context } from '../infra/context.js';
import { startOutboxWorker } from './outbox-worker.js';
import { createSearchBackend, SearchCache } from './search/index.js';

/**
 * The catalog and search: GET /api/products/:id, GET /api/products/search (Postgres or Elasticsearch,
 * results cached per index generation), and in the background the outbox worker that keeps the index current.
 */
export function catalogPart(ctx: Context): Part {
  const backend = createSearchBackend(ctx);
  ctx.onClose(() => backend.close());
  const cache = ctx.config.searchCache ? new SearchCache(ctx.redis, ctx.config.redisPrefix, {
        max: 5000,
        ttlMs: 60_000,
        onInvalidate: () => backend.invalidate(),
        affected: backend.affected?.bind(backend),
      }) : null;
  return {
    name: 'catalog',
    routes: catalogRoutes(ctx, backend, cache),
    start: () => startOutboxWorker(ctx, backend, { intervalMs: ctx.config.searchSyncIntervalMs }),
  };
}
