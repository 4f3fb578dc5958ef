import { Client, errors, type estypes } from '@elastic/elasticsearch';
import type { Db } from '../../infra/db.js';
import { inTransaction } from '../../infra/db.js';
import { allDocuments, countProducts } from './documents.js';
import { searchSyncLock } from './postgres.js';
import type { SearchBackend, SearchDocument, SearchParams, SearchResult } from './types.js';

/**
 * The Elasticsearch backend (ELASTICSEARCH_URL). Searches go to an alias; `reindex` builds a new versioned
 * index and moves the alias in one atomic step. The outbox worker writes with external versioning, so a
 * replayed or late write never replaces a newer document.
 */
export const indexSettings: estypes.IndicesIndexSettings = {
  number_of_shards: 1,
  // One replica when the cluster has a second node, none on a single node (which would otherwise stay yellow).
  auto_expand_replicas: '0-1',
  analysis: {
    analyzer: {
      // Lower-case and fold accents, so "Levis" finds "Levi's" and "cafe" finds "café".
      folded: { type: 'custom', tokenizer: 'standard', filter: ['lowercase', 'asciifolding'] },
    },
  },
};

export const indexMappings: estypes.MappingTypeMapping = {
  dynamic: 'strict',
  properties: {
    id: { type: 'long' },
    name: { type: 'text', analyzer: 'folded' },
    description: { type: 'text', analyzer: 'english' },
    category: { type: 'keyword' },
    priceCents: { type: 'integer' },
    sellerId: { type: 'long' },
    inStock: { type: 'boolean' },
  },
};

const categoryFacetSize = 100;

/** The search request for `p` (exported so its shape is tested without a server). */
export function buildSearchRequest(index: string, p: SearchParams): estypes.SearchRequest {
  const filter: estypes.QueryDslQueryContainer[] = [];
  if (p.category !== undefined) filter.push({ term: { category: p.category } });
  if (p.minPrice !== undefined || p.maxPrice !== undefined) filter.push({ range: { priceCents: { gte: p.minPrice, lte: p.maxPrice } } });
  if (p.inStock !== undefined) filter.push({ term: { inStock: p.inStock } });
  const must: estypes.QueryDslQueryContainer[] =
    p.q === ''
      ? [{ match_all: {} }]
      : [{ multi_match: { query: p.q, fields: ['name^3', 'category^2', 'description'], fuzziness: 'AUTO', prefix_length: 1, operator: 'and' } }];
  const sort: estypes.SortCombinations[] =
    p.sort === 'price_asc'
      ? [{ priceCents: 'asc' }, { id: 'asc' }]
      : p.sort === 'price_desc'
        ? [{ priceCents: 'desc' }, { id: 'asc' }]
        : p.q === ''
          ? [{ id: 'asc' }]
          : [{ _score: { order: 'desc' } }, { id: 'asc' }];
  return {
    index,
    query: { bool: { must, filter } },
    aggs: { category: { terms: { field: 'category', size: categoryFacetSize } } },
    sort,
    from: (p.page - 1) * p.pageSize,
    size: p.pageSize,
    track_total_hits: true,
    _source: ['id', 'name', 'priceCents', 'category', 'inStock'],
  };
}

export class ElasticsearchSearch implements SearchBackend {
  readonly name = 'elasticsearch' as const;
  readonly client: Client;
  private ready: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly opts: { node: string; index: string },
  ) {
    this.client = new Client({ node: opts.node, requestTimeout: 10_000 });
  }

  /** The alias searches and writes go to. */
  get alias(): string {
    return this.opts.index;
  }

  async search(p: SearchParams): Promise<SearchResult> {
    await this.ensureIndex();
    const res = await this.client.search<Pick<SearchDocument, 'id' | 'name' | 'priceCents' | 'category' | 'inStock'>>(buildSearchRequest(this.alias, p));
    const buckets = (res.aggregations?.category as estypes.AggregationsStringTermsAggregate | undefined)?.buckets;
    const total = typeof res.hits.total === 'number' ? res.hits.total : (res.hits.total?.value ?? 0);
    return {
      total,
      hits: res.hits.hits.map((h) => {
        const s = h._source!;
        return { id: s.id, name: s.name, priceCents: s.priceCents, category: s.category, inStock: s.inStock };
      }),
      facets: { category: (Array.isArray(buckets) ? buckets : []).map((b) => ({ value: String(b.key), count: b.doc_count })) },
    };
  }

  async apply({ upserts, deletes, version }: { upserts: SearchDocument[]; deletes: number[]; version: number }): Promise<void> {
    await this.ensureIndex();
    await this.bulk(this.alias, upserts, deletes, version, true);
  }

  async reindex(onProgress?: (done: number, total: number) => void): Promise<number> {
    const total = await countProducts(this.db);
    // Hold the sync lock so no drain writes to the old index between our read and the alias switch.
    return inTransaction(this.db, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1 || current_schema()))', [searchSyncLock]);
      const version = Number((await client.query(`SELECT nextval('search_sync_version')::bigint AS v`)).rows[0].v);
      const fresh = `${this.alias}-v${version}`;
      await this.client.indices.create({
        index: fresh,
        settings: { ...indexSettings, auto_expand_replicas: 'false', number_of_replicas: 0, refresh_interval: '-1' },
        mappings: indexMappings,
      });
      let done = 0;
      onProgress?.(0, total);
      for await (const docs of allDocuments(this.db, 5000)) {
        await this.bulk(fresh, docs, [], version, false);
        done += docs.length;
        onProgress?.(done, Math.max(total, done));
      }
      await this.client.indices.putSettings({ index: fresh, settings: { refresh_interval: '1s', auto_expand_replicas: '0-1' } });
      await this.client.indices.refresh({ index: fresh });
      const old = await this.indicesBehindAlias();
      // A concrete index squatting on the alias name (never ours) would block the alias: remove it first.
      if ((await this.client.indices.exists({ index: this.alias })) && old.length === 0) await this.client.indices.delete({ index: this.alias });
      await this.client.indices.updateAliases({
        actions: [...old.map((index) => ({ remove: { index, alias: this.alias } })), { add: { index: fresh, alias: this.alias } }],
      });
      if (old.length) await this.client.indices.delete({ index: old });
      this.ready = Promise.resolve();
      return done;
    });
  }

  async current(ids: number[]): Promise<SearchDocument[]> {
    if (ids.length === 0) return [];
    await this.ensureIndex();
    const res = await this.client.mget<SearchDocument>({ index: this.alias, ids: ids.map(String) });
    return res.docs.flatMap((d) => ('found' in d && d.found && d._source ? [d._source] : []));
  }

  invalidate(): void {}

  async close(): Promise<void> {
    await this.client.close();
  }

  /** Creates an empty index behind the alias the first time one is needed (a reindex fills it). */
  private ensureIndex(): Promise<void> {
    this.ready ??= (async () => {
      if (await this.client.indices.exists({ index: this.alias })) return;
      const index = `${this.alias}-v0`;
      try {
        await this.client.indices.create({ index, settings: indexSettings, mappings: indexMappings, aliases: { [this.alias]: {} } });
      } catch (err) {
        if (!(err instanceof errors.ResponseError && err.body?.error?.type === 'resource_already_exists_exception')) throw err;
      }
    })().catch((err) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  private async indicesBehindAlias(): Promise<string[]> {
    try {
      return Object.keys(await this.client.indices.getAlias({ name: this.alias }));
    } catch (err) {
      if (err instanceof errors.ResponseError && err.statusCode === 404) return [];
      throw err;
    }
  }

  private async bulk(index: string, upserts: SearchDocument[], deletes: number[], version: number, refresh: boolean): Promise<void> {
    if (upserts.length === 0 && deletes.length === 0) return;
    const operations: unknown[] = [];
    for (const d of upserts) {
      operations.push({ index: { _index: index, _id: String(d.id), version, version_type: 'external_gte' } });
      operations.push(d);
    }
    for (const id of deletes) operations.push({ delete: { _index: index, _id: String(id), version, version_type: 'external_gte' } });
    const res = await this.client.bulk({ operations: operations as estypes.BulkRequest['operations'], refresh });
    if (!res.errors) return;
    // A version conflict means the index already holds a newer document: that is the point, not a failure.
    const failed = res.items.map((item) => Object.values(item)[0]!).filter((r) => r.error && r.status !== 409 && !(r.status === 404));
    if (failed.length) throw new Error(`elasticsearch bulk failed for ${failed.length} documents: ${failed[0]!.error?.reason ?? failed[0]!.error?.type}`);
  }
}
