import type { Db } from '../../infra/db.js';
import { inTransaction } from '../../infra/db.js';
import { allDocuments, countProducts } from './documents.js';
import { queryWords } from './params.js';
import { TermCorrector } from './terms.js';
import type { SearchBackend, SearchDocument, SearchParams, SearchResult } from './types.js';

/** Held (per schema) by a drain of the outbox and by a reindex, so the two never interleave. */
export const searchSyncLock = 'flash-sale:search-sync';
/** Matches re-ordered by the costlier second-phase score. */
const rescoreWindow = 100;

/**
 * The default backend: full text (a weighted tsvector, GIN) plus trigrams (pg_trgm) over `product_search`,
 * a denormalised row per product that the outbox worker keeps current. A misspelt word is widened to its
 * nearest known words (storefront/search/terms.ts) before the full-text match; relevance adds the
 * trigram word similarity of the typed text to the name onto ts_rank.
 */
export class PostgresSearch implements SearchBackend {
  readonly name = 'postgres' as const;
  private readonly terms: TermCorrector;

  constructor(private readonly db: Db) {
    this.terms = new TermCorrector(db);
  }

  async search(p: SearchParams): Promise<SearchResult> {
    const args: unknown[] = [];
    const arg = (v: unknown) => `$${args.push(v)}`;
    const where: string[] = [];
    if (p.category !== undefined) where.push(`category = ${arg(p.category)}`);
    if (p.minPrice !== undefined) where.push(`price_cents >= ${arg(p.minPrice)}`);
    if (p.maxPrice !== undefined) where.push(`price_cents <= ${arg(p.maxPrice)}`);
    if (p.inStock !== undefined) where.push(`in_stock = ${arg(p.inStock)}`);
    const limit = `${arg(p.pageSize)}::int`;
    const offset = `${arg((p.page - 1) * p.pageSize)}::int`;
    const byPrice = p.sort === 'price_asc' ? 'price_cents, product_id' : p.sort === 'price_desc' ? 'price_cents DESC, product_id' : null;
    let sql: string;
    if (p.q === '') {
      // Browsing: no text, so facets and the page are two plain index-backed queries (no ranking).
      const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
      const order = byPrice ?? 'product_id';
      sql = `SELECT
        (SELECT coalesce(json_agg(json_build_array(category, n) ORDER BY n DESC, category), '[]')
           FROM (SELECT category, count(*) AS n FROM product_search ${filter} GROUP BY category) c) AS facets,
        (SELECT coalesce(json_agg(json_build_array(product_id, name, price_cents, category, in_stock) ORDER BY ${order}), '[]')
           FROM (SELECT * FROM product_search ${filter} ORDER BY ${order} LIMIT ${limit} OFFSET ${offset}) h) AS hits`;
    } else {
      const words = queryWords(p.q);
      if (words.length === 0) return { total: 0, hits: [], facets: { category: [] } };
      const query = `to_tsquery('simple', ${arg(await this.terms.tsquery(words))})`;
      where.unshift(`document @@ ${query}`);
      // Relevance is ranked in two phases, like an Elasticsearch rescore: ts_rank orders every match, then
      // the best `rescoreWindow` are re-ordered by ts_rank plus trigram word similarity of the typed words
      // to the name (too costly to compute for thousands of matches). Pages past the window keep ts_rank order.
      const hits = byPrice
        ? `SELECT *, 0 AS tier, 0 AS key FROM matched ORDER BY ${byPrice} LIMIT ${limit} OFFSET ${offset}`
        : `SELECT * FROM (
             SELECT *, 0 AS tier, rank + 0.5 * public.word_similarity(${arg(words.join(' '))}, name) AS key
               FROM (SELECT * FROM matched ORDER BY rank DESC, product_id LIMIT ${rescoreWindow}) w
             UNION ALL
             SELECT *, 1 AS tier, rank AS key
               FROM (SELECT * FROM matched ORDER BY rank DESC, product_id OFFSET ${rescoreWindow}
                     LIMIT greatest(0, ${offset} + ${limit} - ${rescoreWindow})) r
           ) t ORDER BY tier, key DESC, product_id LIMIT ${limit} OFFSET ${offset}`;
      const order = byPrice ?? 'tier, key DESC, product_id';
      sql = `WITH matched AS MATERIALIZED (
          SELECT product_id, name, category, price_cents, in_stock, ${byPrice ? '0' : `ts_rank(document, ${query})`} AS rank
          FROM product_search WHERE ${where.join(' AND ')}
        )
        SELECT
          (SELECT coalesce(json_agg(json_build_array(category, n) ORDER BY n DESC, category), '[]')
             FROM (SELECT category, count(*) AS n FROM matched GROUP BY category) c) AS facets,
          (SELECT coalesce(json_agg(json_build_array(product_id, name, price_cents, category, in_stock) ORDER BY ${order}), '[]')
             FROM (${hits}) h) AS hits`;
    }
    const { rows } = await this.db.query(sql, args);
    const facets = (rows[0].facets as Array<[string, number]>).map(([value, count]) => ({ value, count }));
    return {
      total: facets.reduce((sum, f) => sum + f.count, 0),
      hits: (rows[0].hits as Array<[number, string, number, string, boolean]>).map(([id, name, priceCents, category, inStock]) => ({
        id: Number(id),
        name,
        priceCents,
        category,
        inStock,
      })),
      facets: { category: facets },
    };
  }

  async apply({ upserts, deletes, version }: { upserts: SearchDocument[]; deletes: number[]; version: number }): Promise<void> {
    if (upserts.length) {
      await this.db.query(
        `INSERT INTO product_search (product_id, name, description, category, price_cents, seller_id, in_stock, version)
         SELECT *, $8::bigint FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[], $7::bool[])
         ON CONFLICT (product_id) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description,
           category = EXCLUDED.category, price_cents = EXCLUDED.price_cents, seller_id = EXCLUDED.seller_id,
           in_stock = EXCLUDED.in_stock, version = EXCLUDED.version
         WHERE product_search.version <= EXCLUDED.version`,
        [
          upserts.map((d) => d.id),
          upserts.map((d) => d.name),
          upserts.map((d) => d.description),
          upserts.map((d) => d.category),
          upserts.map((d) => d.priceCents),
          upserts.map((d) => d.sellerId),
          upserts.map((d) => d.inStock),
          version,
        ],
      );
      await this.terms.learn(upserts);
    }
    if (deletes.length) await this.db.query('DELETE FROM product_search WHERE product_id = ANY($1::bigint[]) AND version <= $2', [deletes, version]);
  }

  /**
   * Builds a fresh table beside the live one and swaps it in, so searches keep answering from the old
   * index until the new one is complete. Changes made meanwhile stay in the outbox (the drain waits on the
   * same lock) and are applied to the new table right after.
   */
  async reindex(onProgress?: (done: number, total: number) => void): Promise<number> {
    const total = await countProducts(this.db);
    const indexed = await inTransaction(this.db, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1 || current_schema()))', [searchSyncLock]);
      const { rows } = await client.query(`SELECT nextval('search_sync_version')::bigint AS v`);
      const version = rows[0].v;
      await client.query('DROP TABLE IF EXISTS product_search_next');
      await client.query('CREATE TABLE product_search_next (LIKE product_search INCLUDING DEFAULTS INCLUDING GENERATED)');
      let done = 0;
      onProgress?.(0, total);
      for await (const docs of allDocuments(this.db, 10_000)) {
        await client.query(
          `INSERT INTO product_search_next (product_id, name, description, category, price_cents, seller_id, in_stock, version)
           SELECT *, $8::bigint FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[], $7::bool[])`,
          [docs.map((d) => d.id), docs.map((d) => d.name), docs.map((d) => d.description), docs.map((d) => d.category),
            docs.map((d) => d.priceCents), docs.map((d) => d.sellerId), docs.map((d) => d.inStock), version],
        );
        done += docs.length;
        onProgress?.(done, Math.max(total, done));
      }
      // Bulk-load first, index after: much faster than maintaining GIN indexes row by row.
      const { rows: indexes } = await client.query(
        `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'product_search'`,
      );
      await client.query('ALTER TABLE product_search_next ADD PRIMARY KEY (product_id)');
      for (const ix of indexes) {
        if (ix.indexname === 'product_search_pkey') continue;
        const def = (ix.indexdef as string).replace(/ ON (\S+\.)?product_search /, ' ON product_search_next ').replace(`INDEX ${ix.indexname} `, `INDEX ${ix.indexname}_next `);
        await client.query(def);
      }
      await client.query('ANALYZE product_search_next');
      await TermCorrector.rebuild(client, 'product_search_next');
      // The swap: searches wait only for these few catalog updates.
      await client.query('DROP TABLE product_search');
      await client.query('ALTER TABLE product_search_next RENAME TO product_search');
      await client.query('ALTER INDEX product_search_next_pkey RENAME TO product_search_pkey');
      for (const ix of indexes) if (ix.indexname !== 'product_search_pkey') await client.query(`ALTER INDEX ${ix.indexname}_next RENAME TO ${ix.indexname}`);
      this.terms.forget();
      return done;
    });
    // Sets the visibility map, so facet counts can be index-only scans (VACUUM cannot run in a transaction).
    await this.db.query('VACUUM (ANALYZE) product_search');
    return indexed;
  }

  async current(ids: number[]): Promise<SearchDocument[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.db.query(
      `SELECT product_id, name, description, category, price_cents, seller_id, in_stock FROM product_search WHERE product_id = ANY($1::bigint[])`,
      [ids],
    );
    return rows.map((r) => ({
      id: Number(r.product_id),
      name: r.name,
      description: r.description,
      category: r.category,
      priceCents: r.price_cents,
      sellerId: Number(r.seller_id),
      inStock: r.in_stock,
    }));
  }

  async affected(searches: SearchParams[], productIds: number[]): Promise<boolean[]> {
    const queries = await Promise.all(
      searches.map(async (p) => {
        if (p.q === '') return null;
        const words = queryWords(p.q);
        return words.length ? this.terms.tsquery(words) : '';
      }),
    );
    const { rows } = await this.db.query(
      `SELECT e.i FROM unnest($1::text[], $2::text[], $3::int[], $4::int[]) WITH ORDINALITY AS e(q, category, min_price, max_price, i)
       WHERE e.q IS DISTINCT FROM '' AND EXISTS (
         SELECT 1 FROM product_search s WHERE s.product_id = ANY($5::bigint[])
           AND (e.q IS NULL OR s.document @@ to_tsquery('simple', e.q))
           AND (e.category IS NULL OR s.category = e.category)
           AND (e.min_price IS NULL OR s.price_cents >= e.min_price)
           AND (e.max_price IS NULL OR s.price_cents <= e.max_price))`,
      [queries, searches.map((p) => p.category ?? null), searches.map((p) => p.minPrice ?? null), searches.map((p) => p.maxPrice ?? null), productIds],
    );
    const hit = new Set(rows.map((r) => Number(r.i) - 1));
    return searches.map((_, i) => hit.has(i));
  }

  invalidate(): void {
    this.terms.forget();
  }

  async close(): Promise<void> {}
}
