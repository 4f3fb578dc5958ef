/**
 * The search contract, whatever the backend: Postgres (default, storefront/search/postgres.ts) or
 * Elasticsearch (when ELASTICSEARCH_URL is set, storefront/search/elasticsearch.ts).
 */

export type SearchSort = 'relevance' | 'price_asc' | 'price_desc';

export interface SearchParams {
  /** Free text as typed (already length-checked); '' means browse. */
  q: string;
  category?: string;
  /** Integer cents, inclusive. */
  minPrice?: number;
  maxPrice?: number;
  inStock?: boolean;
  sort: SearchSort;
  /** 1-based. */
  page: number;
  pageSize: number;
}

export interface SearchHit {
  id: number;
  name: string;
  priceCents: number;
  category: string;
  inStock: boolean;
}

export interface SearchResult {
  total: number;
  hits: SearchHit[];
  /** Counted over every match (all filters applied), so the counts add up to `total`. */
  facets: { category: Array<{ value: string; count: number }> };
}

/** What the index holds for one product; read from products + inventory by storefront/search/documents.ts. */
export interface SearchDocument {
  id: number;
  name: string;
  description: string;
  category: string;
  priceCents: number;
  sellerId: number;
  inStock: boolean;
}

/**
 * Where the outbox worker writes. `version` grows with every drain, and each drain reads the products'
 * current state, so a sink keeps the document with the highest version and ignores older ones: applying
 * the same change twice, or an old one late, never goes backwards.
 */
export interface SearchSink {
  apply(change: { upserts: SearchDocument[]; deletes: number[]; version: number }): Promise<void>;
  /** The documents the index holds now for these ids (absent ones left out): the worker diffs against them. */
  current(ids: number[]): Promise<SearchDocument[]>;
}

export interface SearchBackend extends SearchSink {
  readonly name: 'postgres' | 'elasticsearch';
  search(params: SearchParams): Promise<SearchResult>;
  /** Rebuilds the whole index from products + inventory; returns how many documents it holds. */
  reindex(onProgress?: (done: number, total: number) => void): Promise<number>;
  /** Drops anything the backend caches about the index (called when the index generation changes). */
  invalidate(): void;
  /**
   * For each search, whether any of these products matches its text, category and price filters (stock
   * aside). Lets the result cache keep what a stock change cannot touch. Optional: without it, the cache
   * assumes every in-stock-filtered search is affected.
   */
  affected?(searches: SearchParams[], productIds: number[]): Promise<boolean[]>;
  close(): Promise<void>;
}
