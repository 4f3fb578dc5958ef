import { catalogRoutes } from './catalog-routes.js';
import type { Part } from '../infra/part.js';
import type { Context } from '../infra/context.js';
import { createDb } from '../infra/db.js';
import { startOutboxWorker } from './outbox-worker.js';
import { createSearchBackend, SearchCache } from './search/index.js';

/**
 * The catalog and search: GET /api/products/:id, GET /api/products/search (Postgres or Elasticsearch,
 * results cached and kept in step with the index generation), and in the background the outbox worker that
 * keeps the index current. The worker has its own small Postgres pool, so a burst of searches queued on the
 * main pool never delays a change on its way to the index.
 */
export function catalogPart(ctx: Context): Part {
  const backend = createSearchBackend(ctx);
  ctx.onClose(() => backend.close());
  const cache = ctx.config.searchCache
    ? new SearchCache(ctx.redis, ctx.config.redisPrefix, {
        max: 5000,
        ttlMs: 60_000,
        onInvalidate: () => backend.invalidate(),
        affected: backend.affected?.bind(backend),
      })
    : null;
  return {
    name: 'catalog',
    routes: catalogRoutes(ctx, backend, cache),
    pages: [
      { path: '/', script: 'home', title: 'Search' },
      { path: '/products/:id', script: 'product', title: 'Product' },
    ],
    start: async () => {
      const db = createDb(ctx.config.databaseUrl!, ctx.config.dbSchema, 3);
      const sink = createSearchBackend({ config: ctx.config, db });
      const stop = await startOutboxWorker({ ...ctx, db }, sink, { intervalMs: ctx.config.searchSyncIntervalMs });
      return async () => {
        await stop();
        await sink.close();
        await db.end();
      };
    },
  };
}
