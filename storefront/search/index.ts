import type { Context } from '../../infra/context.js';
import { ElasticsearchSearch } from './elasticsearch.js';
import { PostgresSearch } from './postgres.js';
import type { SearchBackend } from './types.js';

export type { SearchBackend, SearchParams, SearchResult, SearchHit, SearchDocument, SearchSink } from './types.js';
export { parseSearchParams, searchKey } from './params.js';
export { SearchCache, bumpGeneration, generationKey } from './cache.js';
export { PostgresSearch, searchSyncLock } from './postgres.js';
export { ElasticsearchSearch } from './elasticsearch.js';

/**
 * Elasticsearch when ELASTICSEARCH_URL is set, Postgres otherwise. SEARCH_PG_PATH=scan answers Postgres text
 * searches the first way (whole search rows ranked), for benchmarks that compare the two side by side.
 */
export function createSearchBackend(ctx: Pick<Context, 'config' | 'db'>, env: NodeJS.ProcessEnv = process.env): SearchBackend {
  const url = ctx.config.elasticsearchUrl;
  if (url) return new ElasticsearchSearch(ctx.db, { node: url, index: `${ctx.config.redisPrefix.replace(/[^a-z0-9_-]/gi, '')}products`.toLowerCase() });
  return new PostgresSearch(ctx.db, env.SEARCH_PG_PATH === 'scan' ? 'scan' : 'postings');
}
