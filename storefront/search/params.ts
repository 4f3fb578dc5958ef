import { z } from 'zod';
import type { SearchParams } from './types.js';

/** Longest `q` accepted; longer gets 400 (nobody types 200 characters into a search box). */
export const maxQueryLength = 200;
/** Deepest result reachable by paging (page * pageSize), as Elasticsearch's max_result_window. */
export const maxResultWindow = 10_000;

const blankToUndefined = (v: unknown) => (v === '' || v === null ? undefined : v);
const cents = z.preprocess(blankToUndefined, z.coerce.number().int('must be whole cents').min(0, 'must not be negative').max(2_147_483_647).optional());
const bool = z.preprocess(blankToUndefined, z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1').optional());

// Postgres text cannot hold NUL, and no category or query needs control characters.
const printable = (s: string) => !/[\u0000-\u001f\u007f]/.test(s);

export const searchQuery = z
  .object({
    q: z.string().max(maxQueryLength, `must be at most ${maxQueryLength} characters`).default(''),
    category: z.preprocess(blankToUndefined, z.string().max(100).refine(printable, 'must not contain control characters').optional()),
    minPrice: cents,
    maxPrice: cents,
    inStock: bool,
    sort: z.preprocess(blankToUndefined, z.enum(['relevance', 'price_asc', 'price_desc']).default('relevance')),
    page: z.preprocess(blankToUndefined, z.coerce.number().int().min(1).max(maxResultWindow).default(1)),
    pageSize: z.preprocess(blankToUndefined, z.coerce.number().int().min(1).max(100, 'must be at most 100').default(20)),
  })
  .refine((p) => p.minPrice === undefined || p.maxPrice === undefined || p.minPrice <= p.maxPrice, {
    path: ['minPrice'],
    message: 'must not be above maxPrice',
  })
  .refine((p) => p.page * p.pageSize <= maxResultWindow, { path: ['page'], message: `page * pageSize must be at most ${maxResultWindow}` });

/** Parses the query string of GET /api/products/search; throws ZodError (-> 400 naming the field). */
export function parseSearchParams(query: URLSearchParams): SearchParams {
  const get = (k: string) => query.get(k) ?? undefined;
  return searchQuery.parse({
    q: (get('q') ?? '').trim(),
    category: get('category'),
    minPrice: get('minPrice'),
    maxPrice: get('maxPrice'),
    inStock: get('inStock'),
    sort: get('sort'),
    page: get('page'),
    pageSize: get('pageSize'),
  }) as SearchParams;
}

/** A stable cache key for the parameters. */
export function searchKey(p: SearchParams): string {
  return JSON.stringify([p.q.toLowerCase(), p.category ?? null, p.minPrice ?? null, p.maxPrice ?? null, p.inStock ?? null, p.sort, p.page, p.pageSize]);
}

/**
 * The words of a query, as the index tokenises text: lower-case runs of letters and digits. Everything else
 * (quotes, operators, regex, SQL) is a separator, so no input can reach a query language. At most 8 words;
 * one-letter words are dropped unless they are all there is.
 */
export function queryWords(q: string): string[] {
  const words = q.normalize('NFKC').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const unique = [...new Set(words.map((w) => w.slice(0, 40)))];
  const long = unique.filter((w) => w.length > 1);
  return (long.length ? long : unique).slice(0, 8);
}
