import type { DbClient } from '../../infra/db.js';

/**
 * Upkeep of `search_postings`, `search_lexemes` and `search_counts` (migration 007): one posting per (word,
 * product) of `product_search.document`, carrying the product's category, price, stock flag, its tsvector
 * entry for that word and that entry's rank against the word alone. A document's text form is its entries
 * separated by spaces (a lexeme never holds a space), so `string_to_table(document::text, ' ')` yields each
 * entry, and each entry casts back to a one-word tsvector with the same positions and weights.
 */
const postingsOf = (table: string) => `
  SELECT e.lexeme, s.product_id, s.category, s.price_cents, s.in_stock,
    CASE WHEN e.lexeme ~ '^[a-z0-9]+$' THEN ts_rank(e.entry, e.lexeme::tsquery) ELSE 0 END, e.entry
  FROM ${table} s, string_to_table(s.document::text, ' ') AS t,
    LATERAL (SELECT t::tsvector AS entry) v, LATERAL (SELECT (tsvector_to_array(v.entry))[1] AS lexeme, v.entry) e`;

const columns = '(lexeme, product_id, category, price_cents, in_stock, word_rank, entry)';

/** Fills empty postings, lexeme and count tables from a whole search table (used by reindex, before the swap). */
export async function buildPostings(client: DbClient, table: string, suffix: string): Promise<void> {
  await client.query(`INSERT INTO search_postings${suffix} ${columns} ${postingsOf(table)}`);
  await client.query(`INSERT INTO search_lexemes${suffix} (lexeme) SELECT DISTINCT lexeme FROM search_postings${suffix}`);
  await client.query(
    `INSERT INTO search_counts${suffix} (lexeme, category, in_stock, n)
     SELECT lexeme, category, in_stock, count(*) FROM search_postings${suffix} GROUP BY 1, 2, 3`,
  );
}

/**
 * Removes the postings of these products (found through the words of their current search rows) and takes
 * them out of the counts. Run in the same transaction as the change to product_search, before it.
 */
export async function dropPostings(client: DbClient, ids: number[]): Promise<void> {
  await client.query(
    `WITH gone AS (
       DELETE FROM search_postings p USING (
         SELECT s.product_id, unnest(tsvector_to_array(s.document)) AS lexeme FROM product_search s WHERE s.product_id = ANY($1::bigint[])
       ) o WHERE p.lexeme = o.lexeme AND p.product_id = o.product_id
       RETURNING p.lexeme, p.category, p.in_stock),
     counted AS (SELECT lexeme, category, in_stock, count(*)::int AS n FROM gone GROUP BY 1, 2, 3)
     UPDATE search_counts c SET n = c.n - counted.n FROM counted
     WHERE c.lexeme = counted.lexeme AND c.category = counted.category AND c.in_stock = counted.in_stock`,
    [ids],
  );
}

/** Writes the postings of these products from their current search rows and counts them (after the change). */
export async function addPostings(client: DbClient, ids: number[]): Promise<void> {
  await client.query(
    `WITH added AS (
       INSERT INTO search_postings ${columns} ${postingsOf('product_search')} WHERE s.product_id = ANY($1::bigint[])
       RETURNING lexeme, category, in_stock),
     words AS (INSERT INTO search_lexemes (lexeme) SELECT DISTINCT lexeme FROM added ON CONFLICT (lexeme) DO NOTHING)
     INSERT INTO search_counts (lexeme, category, in_stock, n)
     SELECT lexeme, category, in_stock, count(*) FROM added GROUP BY 1, 2, 3
     ON CONFLICT (lexeme, category, in_stock) DO UPDATE SET n = search_counts.n + EXCLUDED.n`,
    [ids],
  );
}
