import type { Db } from '../../infra/db.js';
import { PRODUCT_SELECT, productFromRow, type Product, type ProductRow } from '../catalog.js';

/** What a cart line shows about its product (catalog.ts Product): the current name, price and stock. */
export interface ProductInfo extends Pick<Product, 'name' | 'priceCents' | 'stock'> {
  /** The product id as a number (carts keep numeric ids in Redis). */
  id: number;
  /** The start of the product's line in a cart answer, `{"productId":"<id>","name":<name>,"quantity":` (view.ts). */
  lineStart: string;
}

interface Entry {
  /** null: no such product. */
  info: ProductInfo | null;
  /** When the query that read it was sent (ms). */
  at: number;
}

/**
 * Reads products for carts through a short in-process cache, so a cart call is one Redis call plus memory
 * lookups. Nothing shown is older than `ttlMs` (1 s by default): an entry past it is read again before it is
 * used. The entries carts use are re-read in the background in rounds: when a used entry passes half its
 * life, one query re-reads every entry used since the last round, so the products carts show all the time
 * never make a request wait, and cost one query per half-TTL between them rather than one per request or
 * per product. Checkout always reads Postgres afresh, so the cache never decides a sale.
 */
export class ProductLookup {
  private cache = new Map<number, Entry>();
  private inflight = new Map<number, Promise<void>>();
  /** Ids used since the last background round. */
  private used = new Set<number>();
  private roundDue = false;

  constructor(
    private db: Db,
    private ttlMs = 1000,
    private maxEntries = 50_000,
  ) {}

  /**
   * The product as the cache knows it, when that is fresh enough: its info, or null when it does not exist.
   * undefined when it must be read first (get).
   */
  peek(id: number, now: number): ProductInfo | null | undefined {
    const entry = this.cache.get(id);
    if (entry === undefined) return undefined;
    const age = now - entry.at;
    if (age >= this.ttlMs) return undefined;
    this.used.add(id);
    if (age * 2 >= this.ttlMs && !this.roundDue) {
      this.roundDue = true;
      setImmediate(() => this.refreshRound());
    }
    return entry.info;
  }

  /** Products by id (read when the cache has no fresh copy); unknown ids are absent from the result. */
  async get(ids: number[]): Promise<Map<number, ProductInfo>> {
    const now = Date.now();
    const out = new Map<number, ProductInfo>();
    const missing: number[] = [];
    const waits: Promise<void>[] = [];
    for (const id of ids) {
      const known = this.peek(id, now);
      if (known !== undefined) {
        if (known) out.set(id, known);
        continue;
      }
      const pending = this.inflight.get(id);
      if (pending) waits.push(pending);
      else missing.push(id);
    }
    if (missing.length) waits.push(this.load(missing));
    if (waits.length) {
      await Promise.all(waits);
      for (const id of ids) {
        if (out.has(id)) continue;
        const info = this.cache.get(id)?.info;
        if (info) out.set(id, info);
      }
    }
    return out;
  }

  async one(id: number): Promise<ProductInfo | null> {
    const known = this.peek(id, Date.now());
    if (known !== undefined) return known;
    return (await this.get([id])).get(id) ?? null;
  }

  /** Re-reads, in one query, the entries used since the last round that are past a quarter of their life. */
  private refreshRound(): void {
    const now = Date.now();
    const ids: number[] = [];
    for (const id of this.used) {
      const entry = this.cache.get(id);
      if (entry && (now - entry.at) * 4 >= this.ttlMs && !this.inflight.has(id)) ids.push(id);
    }
    this.used.clear();
    const done = () => {
      this.roundDue = false;
    };
    if (ids.length === 0) return done();
    this.load(ids).then(done, done); // a failed round only lets the entries run out
  }

  private load(ids: number[]): Promise<void> {
    const at = Date.now();
    const loading = this.db
      .query<ProductRow>(`${PRODUCT_SELECT} WHERE p.id = ANY($1::bigint[])`, [ids])
      .then(({ rows }) => {
        if (this.cache.size > this.maxEntries) this.cache.clear();
        const found = new Set<number>();
        for (const r of rows) {
          const p = productFromRow(r);
          const id = Number(p.id);
          found.add(id);
          const lineStart = `{"productId":"${p.id}","name":${JSON.stringify(p.name)},"quantity":`;
          this.cache.set(id, { info: { id, name: p.name, priceCents: p.priceCents, stock: p.stock, lineStart }, at });
        }
        for (const id of ids) if (!found.has(id)) this.cache.set(id, { info: null, at });
      })
      .finally(() => {
        for (const id of ids) this.inflight.delete(id);
      });
    for (const id of ids) this.inflight.set(id, loading);
    return loading;
  }
}
