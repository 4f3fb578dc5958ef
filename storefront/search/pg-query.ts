/**
 * The SQL of one Postgres search: a single statement returning `facets` ([category, count] pairs) and
 * `hits` ([id, name, price, category, inStock] arrays) as JSON. Three shapes:
 * - browse (no text): plain index-backed queries, no ranking;
 * - word (one-word text searches): the page, ranks and facets read from `search_postings` and `search_counts`;
 * - scan (every other text search, and the reference the equivalence test compares against): a GIN bitmap scan
 *   of `product_search` and ts_rank over every match's whole document.
 * Both text shapes give the same totals, facets and order (storefront/search/equivalence.test.ts).
 */
import type { SearchParams } from './types.js';

/** Matches re-ordered by the costlier second-phase score. */
export const rescoreWindow = 100;

/** A text search as the SQL builders take it. */
export interface TextQuery {
  /** The words as typed (lower-case), for the trigram rescore. */
  words: string[];
  /** to_tsquery('simple') text: every word as a prefix or one of its corrections. */
  tsquery: string;
  /** Per word, its corrections (known words). */
  corrections: string[][];
}

class Sql {
  readonly args: unknown[] = [];
  arg(v: unknown): string {
    return `$${this.args.push(v)}`;
  }
}

const orderByPrice = (p: SearchParams) =>
  p.sort === 'price_asc' ? 'price_cents, product_id' : p.sort === 'price_desc' ? 'price_cents DESC, product_id' : null;

function filters(p: SearchParams, sql: Sql, column = (c: string) => c): string[] {
  const where: string[] = [];
  if (p.category !== undefined) where.push(`${column('category')} = ${sql.arg(p.category)}`);
  if (p.minPrice !== undefined) where.push(`${column('price_cents')} >= ${sql.arg(p.minPrice)}`);
  if (p.maxPrice !== undefined) where.push(`${column('price_cents')} <= ${sql.arg(p.maxPrice)}`);
  if (p.inStock !== undefined) where.push(`${column('in_stock')} = ${sql.arg(p.inStock)}`);
  return where;
}

const facetsOf = (source: string) => `(SELECT coalesce(json_agg(json_build_array(category, n) ORDER BY n DESC, category), '[]')
  FROM (SELECT category, count(*) AS n FROM ${source} GROUP BY category) c) AS facets`;

const hasPriceFilter = (p: SearchParams) => p.minPrice !== undefined || p.maxPrice !== undefined;

/** Browsing: no text, so facets and the page are two plain index-backed queries (no ranking). */
export function browseSql(p: SearchParams): { sql: string; args: unknown[] } {
  const q = new Sql();
  const where = filters(p, q);
  const limit = `${q.arg(p.pageSize)}::int`;
  const offset = `${q.arg((p.page - 1) * p.pageSize)}::int`;
  const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const order = orderByPrice(p) ?? 'product_id';
  return {
    sql: `SELECT ${facetsOf(`product_search ${filter}`)},
      (SELECT coalesce(json_agg(json_build_array(product_id, name, price_cents, category, in_stock) ORDER BY ${order}), '[]')
         FROM (SELECT * FROM product_search ${filter} ORDER BY ${order} LIMIT ${limit} OFFSET ${offset}) h) AS hits`,
    args: q.args,
  };
}

/**
 * The page of a text search over a `matched` CTE (product_id, category, price_cents, in_stock, rank). Relevance
 * is ranked in two phases, like an Elasticsearch rescore: ts_rank orders every match, then the best
 * `rescoreWindow` are re-ordered by ts_rank plus trigram word similarity of the typed words to the name (too
 * costly to compute for thousands of matches). Pages past the window keep ts_rank order. `named` adds the
 * name to a set of matched rows.
 */
function textPage(p: SearchParams, t: TextQuery, q: Sql, named: (rows: string) => string, facets = facetsOf('matched')): string {
  const limit = `${q.arg(p.pageSize)}::int`;
  const offset = `${q.arg((p.page - 1) * p.pageSize)}::int`;
  const byPrice = orderByPrice(p);
  const hits = byPrice
    ? `SELECT *, 0 AS tier, 0 AS key FROM ${named(`(SELECT * FROM matched ORDER BY ${byPrice} LIMIT ${limit} OFFSET ${offset})`)}`
    : `SELECT * FROM (
         SELECT *, 0 AS tier, rank + 0.5 * public.word_similarity(${q.arg(t.words.join(' '))}, name) AS key
           FROM ${named(`(SELECT * FROM matched ORDER BY rank DESC, product_id LIMIT ${rescoreWindow})`)}
         UNION ALL
         SELECT *, 1 AS tier, rank AS key
           FROM ${named(`(SELECT * FROM matched ORDER BY rank DESC, product_id OFFSET ${rescoreWindow}
                 LIMIT greatest(0, ${offset} + ${limit} - ${rescoreWindow}))`)}
       ) t ORDER BY tier, key DESC, product_id LIMIT ${limit} OFFSET ${offset}`;
  const order = byPrice ?? 'tier, key DESC, product_id';
  return `${facets},
    (SELECT coalesce(json_agg(json_build_array(product_id, name, price_cents, category, in_stock) ORDER BY ${order}), '[]')
       FROM (${hits}) h) AS hits`;
}

/** The first design: every match is a row of product_search (GIN bitmap scan), ranked over its whole document. */
export function scanSql(p: SearchParams, t: TextQuery): { sql: string; args: unknown[] } {
  const q = new Sql();
  const query = `to_tsquery('simple', ${q.arg(t.tsquery)})`;
  const where = [`document @@ ${query}`, ...filters(p, q)];
  const rank = orderByPrice(p) ? '0' : `ts_rank(document, ${query})`;
  const matched = `SELECT product_id, name, category, price_cents, in_stock, ${rank} AS rank FROM product_search WHERE ${where.join(' AND ')}`;
  return {
    sql: `WITH matched AS MATERIALIZED (${matched}) SELECT ${textPage(p, t, q, (rows) => `${rows} m`)}`,
    args: q.args,
  };
}

/**
 * Whether the word path computes exactly what the scan path does for these words: each word and each
 * correction must be one plain token to to_tsquery('simple') (letters and digits in ASCII; anything else, such
 * as a hyphenated correction "x-t5", becomes a phrase there, which postings do not model).
 */
export const postingsFit = (t: TextQuery) => [...t.words, ...t.corrections.flat()].every((w) => /^[a-z0-9]+$/.test(w));

const withName = (rows: string) => `(SELECT m.*, n.name FROM ${rows} m JOIN product_search n USING (product_id)) m`;

/**
 * A one-word search: its word (as a prefix, and through its corrections) matches the index words `lexemes`,
 * `small` being all of them but the one in most products, and its tsquery has 1, 2 or 4 items. Only the page
 * is read, in order, from indexes:
 * - `multi`: the few products holding two or more of the words (they all hold one of the `small` words),
 *   ranked exactly over their matching entries (joined as text and cast back, so positions stay as they were);
 * - every other product holds one matching word, and its ts_rank for this query is that posting's `word_rank`
 *   (its rank against the word alone) divided by the number of items: ts_rank's OR rank sums the one matching
 *   entry's score and divides by the items, and dividing by 1, 2 or 4 is exact in floating point. So
 *   (word_rank DESC, product_id) is the search's order, and the best max(100, page end) postings of each word
 *   are read from search_postings_rank (in price order from search_postings_price for the price sorts);
 * - facets: per category, the postings of each word (summed from search_counts without a price filter, else
 *   counted in the price range) less the extra postings of `multi` products.
 * The same answers as scanSql (storefront/search/equivalence.test.ts).
 */
export function wordSql(p: SearchParams, t: TextQuery, lexemes: string[], small: string[]): { sql: string; args: unknown[] } {
  const q = new Sql();
  const words = q.arg(lexemes);
  const others = q.arg(small);
  const where = filters(p, q, (c) => `s.${c}`);
  const and = where.map((w) => ` AND ${w}`).join('');
  const byPrice = orderByPrice(p);
  const tsquery = byPrice ? '' : `to_tsquery('simple', ${q.arg(t.tsquery)})`;
  const end = `${q.arg(p.page * p.pageSize)}::int`;
  const facets = hasPriceFilter(p)
    ? `SELECT s.category, count(*) AS n FROM search_postings s WHERE s.lexeme = ANY(${words})${and} GROUP BY s.category`
    : `SELECT s.category, s.n FROM search_counts s WHERE s.lexeme = ANY(${words})${and}`;
  const sql = `WITH multi AS MATERIALIZED (
      SELECT s.product_id, min(s.category) AS category, min(s.price_cents) AS price_cents, bool_and(s.in_stock) AS in_stock, count(*) AS k,
        ${byPrice ? '0' : `ts_rank(array_to_string(array_agg(s.entry), ' ')::tsvector, ${tsquery})`} AS rank
      FROM search_postings s
      WHERE s.lexeme = ANY(${words}) AND s.product_id IN (SELECT s.product_id FROM search_postings s WHERE s.lexeme = ANY(${others})${and})${and}
      GROUP BY s.product_id HAVING count(*) > 1),
    matched AS MATERIALIZED (
      SELECT x.* FROM unnest(${words}::text[]) AS w(lexeme), LATERAL (
        SELECT s.product_id, s.category, s.price_cents, s.in_stock, ${byPrice ? '0' : `ts_rank(s.entry, ${tsquery})`} AS rank
        FROM search_postings s
        WHERE s.lexeme = w.lexeme${and} AND s.product_id NOT IN (SELECT product_id FROM multi)
        ORDER BY ${byPrice ? byPrice.replace('price_cents', 's.price_cents').replace('product_id', 's.product_id') : 's.word_rank DESC, s.product_id'}
        LIMIT ${byPrice ? end : `greatest(${rescoreWindow}, ${end})`}) x
      UNION ALL SELECT product_id, category, price_cents, in_stock, rank FROM multi)
    SELECT ${textPage(p, t, q, withName, `(SELECT coalesce(json_agg(json_build_array(category, n) ORDER BY n DESC, category), '[]')
      FROM (SELECT category, sum(n) AS n FROM (${facets} UNION ALL SELECT category, 1 - k FROM multi) f
            GROUP BY category HAVING sum(n) > 0) c) AS facets`)}`;
  return { sql, args: q.args };
}
