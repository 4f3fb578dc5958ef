import type { Context } from '../../infra/context.js';
import { notFound } from '../../infra/errors.js';
import { ProductLookup, type ProductInfo } from './products.js';
import { CartStore, defaultLimits, type CartLimits, type CartRef, type CartState } from './store.js';

export interface CartLine {
  productId: number;
  name: string;
  quantity: number;
  /** Current price (not the price when added). */
  unitPriceCents: number;
  lineTotalCents: number;
  /** Any stock at all. */
  inStock: boolean;
  /** Enough stock for this line's quantity right now (checked again, for real, at checkout). */
  available: boolean;
}

export interface CartView {
  items: CartLine[];
  /** Units in the cart. */
  itemCount: number;
  totalCents: number;
  /** True when every line can be bought as it stands. */
  available: boolean;
}

export interface CartOptions extends Partial<CartLimits> {
  /** How old a product's price and stock shown in a cart may be (ms). */
  productCacheMs?: number;
}

/** Carts as shoppers see them: lines with current prices and availability, and the anonymous merge. */
export class CartService {
  readonly store: CartStore;
  readonly products: ProductLookup;

  constructor(ctx: Context, opts: CartOptions = {}) {
    this.store = new CartStore(ctx, { ...defaultLimits, ...opts });
    this.products = new ProductLookup(ctx.db, opts.productCacheMs ?? 1000);
  }

  async view(ref: CartRef): Promise<CartView> {
    return this.toView(await this.store.read(ref));
  }

  /** Sets a line's quantity (1..99); 404 for a product that does not exist. */
  async setQuantity(ref: CartRef, productId: number, quantity: number): Promise<CartView> {
    if (!(await this.products.one(productId))) throw notFound(`product ${productId}`);
    return this.toView(await this.store.set(ref, [[productId, quantity]]));
  }

  async remove(ref: CartRef, productId: number): Promise<CartView> {
    return this.toView(await this.store.set(ref, [[productId, 0]]));
  }

  /**
   * Moves an anonymous cart into a user's cart: quantities add up, capped at the unit limit and by stock
   * (a line the user had already is never lowered). The anonymous cart is gone afterwards, even when it
   * held nothing worth merging. Returns how many lines were merged.
   */
  async mergeAnonymous(userId: string, cartId: string): Promise<number> {
    const lines = await this.store.take(cartId);
    if (lines.size === 0) return 0;
    const products = await this.products.get([...lines.keys()]);
    const adds: Array<[number, number, number]> = [];
    for (const [id, qty] of lines) {
      const p = products.get(id);
      if (p) adds.push([id, qty, p.stock]);
    }
    if (adds.length) await this.store.merge({ kind: 'user', userId }, adds);
    return adds.length;
  }

  private async toView(state: CartState): Promise<CartView> {
    const products = await this.products.get([...state.lines.keys()]);
    const items: CartLine[] = [];
    for (const [productId, quantity] of state.lines) {
      const p: ProductInfo | undefined = products.get(productId);
      if (!p) continue; // the product was removed from the catalog
      items.push({
        productId,
        name: p.name,
        quantity,
        unitPriceCents: p.priceCents,
        lineTotalCents: p.priceCents * quantity,
        inStock: p.stock > 0,
        available: p.stock >= quantity,
      });
    }
    items.sort((a, b) => a.productId - b.productId);
    return {
      items,
      itemCount: items.reduce((n, l) => n + l.quantity, 0),
      totalCents: items.reduce((n, l) => n + l.lineTotalCents, 0),
      available: items.every((l) => l.available),
    };
  }
}
