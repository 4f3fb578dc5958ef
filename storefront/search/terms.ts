import type { Db, DbClient } from '../../infra/db.js';
import type { SearchDocument } from './types.js';

/** How far a correction may be from the typed word: trigram similarity at least this... */
const minSimilarity = 0.25;
/** ...and at least this share of the best candidate's similarity (keeps "phone" from widening to "headphones"). */
const relativeCutoff = 0.8;
const maxCorrections = 3;
const cacheSize = 10_000;
const cacheTtlMs = 10_000;

/**
 * Typo tolerance for the Postgres backend, the way the pg_trgm docs pair trigrams with full text: the words
 * of every product name and category sit in `search_terms` (GiST trigram index). A query word that is not a
 * known word is widened to its nearest known words (KNN on trigram distance), so `iphnoe` also searches
 * `iphone`. Lookups are cached per word for a minute; the word list only grows between reindexes.
 */
export class TermCorrector {
  private cache = new Map<string, { at: number; corrections: string[] }>();

  constructor(private readonly db: Db) {}

  /** A to_tsquery('simple') text: every word (as a prefix, or one of its corrections) must match. */
  async tsquery(words: string[]): Promise<string> {
    const corrections = await this.correct(words);
    return words.map((w) => `(${[`${w}:*`, ...corrections.get(w)!].join(' | ')})`).join(' & ');
  }

  async correct(words: string[]): Promise<Map<string, string[]>> {
    const now = Date.now();
    const out = new Map<string, string[]>();
    const missing: string[] = [];
    for (const w of words) {
      const hit = this.cache.get(w);
      if (hit && now - hit.at < cacheTtlMs) out.set(w, hit.corrections);
      else if (w.length < 3 || !/\p{L}/u.test(w)) out.set(w, []); // short words and numbers are taken as typed
      else missing.push(w);
    }
    if (missing.length) {
      const { rows } = await this.db.query(
        `SELECT w.word, t.term, t.sim FROM unnest($1::text[]) AS w(word)
         CROSS JOIN LATERAL (
           SELECT term, public.similarity(term, w.word) AS sim FROM search_terms
           ORDER BY term OPERATOR(public.<->) w.word LIMIT 6) t`,
        [missing],
      );
      for (const w of missing) {
        const candidates = rows.filter((r) => r.word === w);
        const exact = candidates.some((r) => r.term === w);
        const best = Math.max(0, ...candidates.map((r) => r.sim));
        const corrections = exact
          ? []
          : candidates
              .filter((r) => r.sim >= minSimilarity && r.sim >= best * relativeCutoff && !r.term.startsWith(w))
              .slice(0, maxCorrections)
              .map((r) => r.term as string);
        this.remember(w, corrections, now);
        out.set(w, corrections);
      }
    }
    return out;
  }

  /** Adds the words of new or changed products to the word list. */
  async learn(docs: SearchDocument[]): Promise<void> {
    await this.db.query(
      `INSERT INTO search_terms (term)
       SELECT DISTINCT unnest(tsvector_to_array(to_tsvector('simple', t))) FROM unnest($1::text[]) AS t
       ON CONFLICT (term) DO NOTHING`,
      [docs.map((d) => `${d.name} ${d.category}`)],
    );
  }

  forget(): void {
    this.cache.clear();
  }

  /** Rebuilds the word list from a search table (ts_stat counts the documents each word is in). */
  static async rebuild(client: DbClient, table: string): Promise<void> {
    await client.query('TRUNCATE search_terms');
    await client.query(
      `INSERT INTO search_terms (term, docs)
       SELECT word, ndoc FROM ts_stat($1)`,
      [`SELECT to_tsvector('simple', name || ' ' || category) FROM ${table}`],
    );
  }

  private remember(word: string, corrections: string[], at: number): void {
    if (this.cache.size >= cacheSize) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(word, { at, corrections });
  }
}
