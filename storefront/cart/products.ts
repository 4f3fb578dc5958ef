import type { Db } from '../../infra/db.js';

/** What a cart line shows about its product: the current name, price and stock. */
export interface ProductInfo {
  id: number;
  name: string;
  priceCents: number;
  stock: number;
}

/**
 * Reads products for carts, with a short in-process cache: a cart view is then a Redis read plus a memory
 * lookup, which is what makes cart traffic cheap. Prices and stock shown in a cart are at most `ttlMs` old
 * (1 s by default); checkout always reads Postgres afresh, so the cache never decides a sale.
 */
export class ProductLookup {
  private cache = new Map<number, { info: ProductInfo | null; at: number }>();
  private inflight = new Map<number, Promise<void>>();

  constructor(
    private db: Db,
    private ttlMs = 1000,
    private maxEntries = 50_000,
  ) {}

  /** Products by id; unknown ids are absent from the result. */
  async get(ids: number[]): Promise<Map<number, ProductInfo>> {
    const now = Date.now();
    const out = new Map<number, ProductInfo>();
    const missing: number[] = [];
    const waits: Promise<void>[] = [];
    for (const id of ids) {
      const hit = this.cache.get(id);
      if (hit && now - hit.at < this.ttlMs) {
        if (hit.info) out.set(id, hit.info);
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
    return (await this.get([id])).get(id) ?? null;
  }

  private load(ids: number[]): Promise<void> {
    const p = (async () => {
      const { rows } = await this.db.query(
        `SELECT p.id, p.name, p.price_cents, coalesce(i.quantity, 0) AS stock
           FROM products p LEFT JOIN inventory i ON i.product_id = p.id
          WHERE p.id = ANY($1::bigint[])`,
        [ids],
      );
      const at = Date.now();
      if (this.cache.size > this.maxEntries) this.cache.clear();
      const found = new Set<number>();
      for (const r of rows) {
        found.add(Number(r.id));
        this.cache.set(Number(r.id), { info: { id: Number(r.id), name: r.name, priceCents: r.price_cents, stock: r.stock }, at });
      }
      for (const id of ids) if (!found.has(id)) this.cache.set(id, { info: null, at });
    })().finally(() => {
      for (const id of ids) this.inflight.delete(id);
    });
    for (const id of ids) this.inflight.set(id, p);
    return p;
  }
}
