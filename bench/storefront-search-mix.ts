/**
 * The search query mix shared by `bench:storefront` and the equivalence test: at least 1,000 distinct
 * searches generated (deterministically) from the words of the seeded catalog, the way shoppers type them:
 * one word and several (words that follow each other in a product name), broad words that match thousands of
 * products ("black", "set"), narrow ones (model numbers), typos (a swapped, dropped, doubled or changed letter),
 * prefixes (the first letters of a word, as while typing), with and without category, price and stock
 * filters, all three sort orders, and pages beyond the first; plus category browsing with sorts and pages.
 */
import { catalogProduct, categories, rng } from '../scripts/catalog-data.js';
import { parseSearchParams } from '../storefront/search/params.js';
import type { PostgresSearch, SearchParams, SearchResult } from '../storefront/search/index.js';

const wordsOf = (s: string): string[] => s.toLowerCase().match(/[a-z0-9]+/g) ?? [];

function typo(word: string, r: () => number): string {
  const i = 1 + Math.floor(r() * (word.length - 2));
  const kind = Math.floor(r() * 4);
  if (kind === 0) return word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2); // swap
  if (kind === 1) return word.slice(0, i) + word.slice(i + 1); // drop
  if (kind === 2) return word.slice(0, i) + word[i] + word.slice(i); // double
  return word.slice(0, i) + 'aeiou'[Math.floor(r() * 5)] + word.slice(i + 1); // change
}

export interface MixEntry {
  /** What kind of search it is, for reading the results. */
  kind: 'word' | 'broad' | 'phrase' | 'narrow' | 'typo' | 'prefix' | 'browse';
  path: string;
}

/** `count` distinct searches (paths of GET /api/products/search) built from the first `products` products. */
export function searchMix(count = 1200, products = 100_000, seed = 17): MixEntry[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  // The vocabulary, with how many products' names hold each word, from a sample of the catalog.
  const sample = Array.from({ length: Math.min(products, 20_000) }, (_, k) => catalogProduct(Math.floor((k * products) / Math.min(products, 20_000))));
  const df = new Map<string, number>();
  const phrases: string[][] = [];
  for (const p of sample) {
    const w = wordsOf(p.name);
    for (const x of new Set(w)) df.set(x, (df.get(x) ?? 0) + 1);
    phrases.push(w);
  }
  const vocab = [...df.keys()].filter((w) => w.length > 1);
  const broad = vocab.filter((w) => df.get(w)! >= sample.length * 0.05); // in 5% of products or more
  const narrow = vocab.filter((w) => df.get(w)! <= sample.length * 0.002);
  const long = vocab.filter((w) => w.length >= 5 && /^[a-z]+$/.test(w));
  const prices = sample.map((p) => p.priceCents).sort((a, b) => a - b);
  const price = () => prices[Math.floor(r() * prices.length)]!;

  const out = new Map<string, MixEntry>();
  const add = (kind: MixEntry['kind'], q: Record<string, string | number | boolean>) => {
    const path = `/api/products/search?${new URLSearchParams(Object.entries(q).map(([k, v]) => [k, String(v)]))}`;
    if (!out.has(path)) out.set(path, { kind, path });
  };
  /** Filters, sort and page for a text search, each on a share of the searches. */
  const extras = (category?: string): Record<string, string | number | boolean> => {
    const o: Record<string, string | number | boolean> = {};
    const f = r();
    if (f < 0.15 && category) o.category = category;
    else if (f < 0.3) {
      const [a, b] = [price(), price()].sort((x, y) => x - y);
      if (r() < 0.5) o.minPrice = a;
      o.maxPrice = b;
    } else if (f < 0.4) o.inStock = true;
    else if (f < 0.45 && category) Object.assign(o, { category, inStock: true, maxPrice: price() });
    const s = r();
    if (s < 0.2) o.sort = 'price_asc';
    else if (s < 0.35) o.sort = 'price_desc';
    if (r() < 0.2) o.page = 2 + Math.floor(r() * 4);
    if (r() < 0.1) o.pageSize = pick([10, 50, 100]);
    return o;
  };
  const categoryOf = (word: string) => sample.find((p) => wordsOf(p.name).includes(word))?.category;
  const makers: Array<[number, () => void]> = [
    [0.16, () => { const w = pick(vocab); add('word', { q: w, ...extras(categoryOf(w)) }); }],
    [0.14, () => { const w = pick(broad); add('broad', { q: w, ...extras(categoryOf(w)) }); }],
    [0.2, () => {
      const name = pick(phrases);
      const n = 2 + Math.floor(r() * 2);
      const at = Math.floor(r() * Math.max(1, name.length - n));
      const q = name.slice(at, at + n).join(' ');
      add('phrase', { q, ...extras(categoryOf(name[at]!)) });
    }],
    [0.08, () => { const w = pick(narrow); add('narrow', { q: w, ...extras(categoryOf(w)) }); }],
    [0.12, () => {
      const name = pick(phrases).filter((w) => w.length >= 5 && /^[a-z]+$/.test(w));
      const w = name.length ? pick(name) : pick(long);
      const other = r() < 0.3 ? ` ${pick(pick(phrases))}` : '';
      add('typo', { q: typo(w, r) + other, ...extras(categoryOf(w)) });
    }],
    [0.12, () => {
      const w = pick(long);
      add('prefix', { q: w.slice(0, 3 + Math.floor(r() * 3)), ...extras(categoryOf(w)) });
    }],
    [0.18, () => {
      const o: Record<string, string | number | boolean> = { category: pick(categories) };
      o.sort = pick(['relevance', 'price_asc', 'price_desc']);
      if (r() < 0.4) o.page = 2 + Math.floor(r() * 10);
      if (r() < 0.3) o.inStock = true;
      if (r() < 0.3) o.maxPrice = price();
      if (r() < 0.05) delete o.category;
      add('browse', o);
    }],
  ];
  while (out.size < count) {
    let x = r();
    for (const [share, make] of makers) {
      if ((x -= share) < 0) {
        make();
        break;
      }
    }
  }
  return [...out.values()];
}

export const mixParams = (path: string): SearchParams => parseSearchParams(new URL(path, 'http://x').searchParams);

/** Runs every search through two backends and lists where their answers differ (empty: the same answers). */
export async function compareSearches(
  a: PostgresSearch,
  b: PostgresSearch,
  mix: MixEntry[],
): Promise<Array<{ path: string; a: SearchResult; b: SearchResult }>> {
  const differences: Array<{ path: string; a: SearchResult; b: SearchResult }> = [];
  for (const { path } of mix) {
    const p = mixParams(path);
    const [x, y] = [await a.search(p), await b.search(p)];
    if (JSON.stringify(x) !== JSON.stringify(y)) differences.push({ path, a: x, b: y });
  }
  return differences;
}
