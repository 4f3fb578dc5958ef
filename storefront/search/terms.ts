import type { Db, DbClient } from '../../infra/db.js';
import type { SearchDocument } from './types.js';

/** How far a correction may be from the typed word: trigram similarity at least this... */
const minSimilarity = 0.25;
/** ...and at least this share of the best candidate's similarity (keeps "phone" from widening to "headphones"). */
const relativeCutoff = 0.8;
const maxCorrections = 3;
/** Trigram candidates looked at per word (nearest first). */
const candidatesPerWord = 20;
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
    return TermCorrector.tsquery(words, await this.correct(words));
  }

  static tsquery(words: string[], corrections: Map<string, string[]>): string {
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
           ORDER BY term OPERATOR(public.<->) w.word LIMIT $2) t`,
        [missing, candidatesPerWord],
      );
      for (const w of missing) {
        const candidates = rows.filter((r) => r.word === w);
        const exact = candidates.some((r) => r.term === w);
        const best = Math.max(0, ...candidates.map((r) => r.sim));
        const corrections = exact
          ? []
          : candidates
              .filter((r) => !r.term.startsWith(w))
              .filter((r) => (r.sim >= minSimilarity && r.sim >= best * relativeCutoff) || withinTypos(w, r.term))
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

/**
 * Short words share too few trigrams for similarity to catch a swapped pair ("phnoe"): a known word, or
 * the start of one, within a small optimal-string-alignment distance also counts (1 edit for 5-7
 * letters, 2 from 8; a transposition is one edit).
 */
export function withinTypos(typed: string, term: string): boolean {
  const allowed = typed.length >= 8 ? 2 : typed.length >= 5 ? 1 : 0;
  if (allowed === 0) return false;
  return osaDistance(typed, term) <= allowed || osaDistance(typed, term.slice(0, typed.length)) <= allowed;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions. */
export function osaDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
