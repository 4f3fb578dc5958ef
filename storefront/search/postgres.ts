import { createHash } from 'node:crypto';
import type { Db } from '../../infra/db.js';
import { inTransaction } from '../../infra/db.js';
import { allDocuments, countProducts } from './documents.js';
import { queryWords } from './params.js';
import { browseSql, postingsFit, scanSql, wordSql, type TextQuery } from './pg-query.js';
import { addPostings, buildPostings, dropPostings } from './postings.js';
import { TermCorrector } from './terms.js';
import type { SearchBackend, SearchDocument, SearchParams, SearchResult } from './types.js';

/**
 * A one-word search reads only its page from the indexes when the products holding two of its words (found
 * through all of them but the biggest) are at most this many postings; past it, the scan path answers.
 */
const maxOverlap = 5000;
/** The tables a reindex builds beside the live ones and swaps in together. */
const rebuilt = ['product_search', 'search_postings', 'search_lexemes', 'search_counts'];
/** Held (per schema) by a drain of the outbox and by a reindex, so the two never interleave. */
export const searchSyncLock = 'flash-sale:search-sync';

/**
 * The default backend: full text (a weighted tsvector, GIN) plus trigrams (pg_trgm) over `product_search`,
 * a denormalised row per product that the outbox worker keeps current. A misspelt word is widened to its
 * nearest known words (storefront/search/terms.ts) before the full-text match; relevance adds the
 * trigram word similarity of the typed text to the name onto ts_rank.
 */
export class PostgresSearch implements SearchBackend {
  readonly name = 'postgres' as const;
  private readonly terms: TermCorrector;

  /**
   * `path` picks how a text search is answered: from the postings index (default) or by scanning whole search
   * rows (the first design, kept as the reference the equivalence test compares against).
   */
  constructor(
    private readonly db: Db,
    private readonly path: 'postings' | 'scan' = 'postings',
  ) {
    this.terms = new TermCorrector(db);
  }

  async search(p: SearchParams): Promise<SearchResult> {
    let query: { sql: string; args: unknown[] };
    const none: SearchResult = { total: 0, hits: [], facets: { category: [] } };
    if (p.q === '') query = browseSql(p);
    else {
      const words = queryWords(p.q);
      if (words.length === 0) return none;
      const corrections = await this.terms.correct(words);
      const text: TextQuery = { words, tsquery: TermCorrector.tsquery(words, corrections), corrections: words.map((w) => corrections.get(w)!) };
      if (this.path === 'scan' || !postingsFit(text)) query = scanSql(p, text);
      else if (words.length > 1) query = scanSql(p, text); // GIN intersects the words' lists faster than postings union them
      else {
        const lexemes = await this.lexemes(words[0]!, text.corrections[0]!);
        if (lexemes.length === 0) return none;
        const items = 1 + text.corrections[0]!.length;
        // All words but the one in most products: products holding two of the words hold one of these.
        const small = [...lexemes].sort((a, b) => b.docs - a.docs).slice(1);
        const overlap = small.reduce((sum, l) => sum + l.docs, 0);
        query =
          [1, 2, 4].includes(items) && overlap <= maxOverlap
            ? wordSql(p, text, lexemes.map((l) => l.lexeme), small.map((l) => l.lexeme))
            : scanSql(p, text);
      }
    }
    // A named (prepared) statement per SQL shape: each connection plans a shape once, not on every search.
    const { rows } = await this.db.query({ name: `search_${createHash('sha1').update(query.sql).digest('hex').slice(0, 16)}`, text: query.sql, values: query.args });
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

  /** The words of the index a query word matches: those it starts (a b-tree range) and its corrections. */
  private async lexemes(word: string, corrections: string[]): Promise<Array<{ lexeme: string; docs: number }>> {
    const next = word.slice(0, -1) + String.fromCharCode(word.charCodeAt(word.length - 1) + 1);
    const { rows } = await this.db.query({
      name: 'search_lexemes',
      text: `SELECT l.lexeme, (SELECT coalesce(sum(n), 0) FROM search_counts c WHERE c.lexeme = l.lexeme)::int AS docs
             FROM search_lexemes l WHERE (l.lexeme >= $1 AND l.lexeme < $2) OR l.lexeme = ANY($3::text[])`,
      values: [word, next, corrections],
    });
    return rows.map((r) => ({ lexeme: r.lexeme as string, docs: r.docs as number }));
  }

  async apply({ upserts, deletes, version }: { upserts: SearchDocument[]; deletes: number[]; version: number }): Promise<void> {
    // The postings follow the search rows in the same transaction: dropped through the old document, written
    // from the row as it is after the change (unchanged when the version guard kept a newer row).
    await inTransaction(this.db, async (client) => {
      if (upserts.length) {
        const ids = upserts.map((d) => d.id);
        await dropPostings(client, ids);
        await client.query(
          `INSERT INTO product_search (product_id, name, description, category, price_cents, seller_id, in_stock, version)
           SELECT *, $8::bigint FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[], $7::bool[])
           ON CONFLICT (product_id) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description,
             category = EXCLUDED.category, price_cents = EXCLUDED.price_cents, seller_id = EXCLUDED.seller_id,
             in_stock = EXCLUDED.in_stock, version = EXCLUDED.version
           WHERE product_search.version <= EXCLUDED.version`,
          [
            ids,
            upserts.map((d) => d.name),
            upserts.map((d) => d.description),
            upserts.map((d) => d.category),
            upserts.map((d) => d.priceCents),
            upserts.map((d) => d.sellerId),
            upserts.map((d) => d.inStock),
            version,
          ],
        );
        await addPostings(client, ids);
      }
      if (deletes.length) {
        const { rows } = await client.query('SELECT product_id FROM product_search WHERE product_id = ANY($1::bigint[]) AND version <= $2', [deletes, version]);
        const gone = rows.map((r) => Number(r.product_id));
        if (gone.length) {
          await dropPostings(client, gone);
          await client.query('DELETE FROM product_search WHERE product_id = ANY($1::bigint[])', [gone]);
        }
      }
    });
    if (upserts.length) await this.terms.learn(upserts);
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
      // Bulk-load first, index after: much faster than maintaining GIN and b-tree indexes row by row.
      const indexes = new Map<string, Array<{ indexname: string; indexdef: string }>>();
      for (const table of rebuilt) {
        const { rows: ix } = await client.query(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1`, [table]);
        indexes.set(table, ix);
        if (table !== 'product_search') {
          await client.query(`DROP TABLE IF EXISTS ${table}_next`);
          await client.query(`CREATE TABLE ${table}_next (LIKE ${table} INCLUDING DEFAULTS)`);
        }
      }
      await buildPostings(client, 'product_search_next', '_next');
      for (const table of rebuilt) {
        for (const ix of indexes.get(table)!) {
          await client.query(
            ix.indexdef.replace(new RegExp(` ON (\\S+\\.)?${table} `), ` ON ${table}_next `).replace(`INDEX ${ix.indexname} `, `INDEX ${ix.indexname}_next `),
          );
          if (ix.indexname === `${table}_pkey`) await client.query(`ALTER TABLE ${table}_next ADD PRIMARY KEY USING INDEX ${table}_pkey_next`);
        }
        await client.query(`ANALYZE ${table}_next`);
      }
      await client.query('ALTER TABLE product_search_next SET (parallel_workers = 0)');
      await client.query('ALTER TABLE search_postings_next SET (parallel_workers = 0)');
      await TermCorrector.rebuild(client, 'product_search_next');
      // The swap: searches wait only for these few catalog updates.
      for (const table of rebuilt) {
        await client.query(`DROP TABLE ${table}`);
        await client.query(`ALTER TABLE ${table}_next RENAME TO ${table}`);
        for (const ix of indexes.get(table)!) await client.query(`ALTER INDEX ${ix.indexname}_next RENAME TO ${ix.indexname}`);
      }
      this.terms.forget();
      return done;
    });
    // Sets the visibility map, so facet counts can be index-only scans (VACUUM cannot run in a transaction).
    await this.db.query('VACUUM (ANALYZE) product_search');
    await this.db.query('VACUUM (ANALYZE) search_postings');
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
