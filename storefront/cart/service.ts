import type { Context } from '../../infra/context.js';
import { notFound } from '../../infra/errors.js';
import { ProductLookup } from './products.js';
import { CartStore, defaultLimits, type CartLimits, type CartRef, type Lines } from './store.js';
import { renderCart } from './view.js';

export interface CartOptions extends Partial<CartLimits> {
  /** How old a product's price and stock shown in a cart may be (ms). */
  productCacheMs?: number;
}

/**
 * Carts as shoppers see them: lines with current prices and availability, and the anonymous merge.
 * `view`, `setQuantity` and `remove` answer the whole cart as its JSON text (a CartView, see view.ts), with
 * `cartToken` in it when one is given. Each is one Redis call and, while the products' cached copies are
 * fresh, no other wait.
 */
/** An anonymous cart lives this long after its last use (a signed-in user's cart: `ttlMs`, and Postgres). */
export const ANON_CART_TTL_MS = 7 * 24 * 3600 * 1000;

export class CartService {
  /** Signed-in users' carts (and the keys of both kinds). */
  readonly store: CartStore;
  /** Anonymous carts: the same store with the anonymous TTL. */
  readonly anonStore: CartStore;
  readonly products: ProductLookup;

  constructor(
    private ctx: Context,
    opts: CartOptions = {},
  ) {
    this.store = new CartStore(ctx, { ...defaultLimits, ...opts });
    this.anonStore = new CartStore(ctx, { ...defaultLimits, ...opts, ttlMs: Math.min(opts.ttlMs ?? ANON_CART_TTL_MS, ANON_CART_TTL_MS) });
    this.products = new ProductLookup(ctx.db, opts.productCacheMs ?? 1000);
  }

  private storeOf(ref: CartRef): CartStore {
    return ref.kind === 'user' ? this.store : this.anonStore;
  }

  view(ref: CartRef, cartToken?: string): Promise<string> {
    return this.storeOf(ref).read(ref).then(({ lines }) => this.render(lines, cartToken));
  }

  /** An empty cart's answer (no cart is made for it), with the anonymous cart token to use when there is one. */
  empty(cartToken?: string): string {
    return renderCart(new Map(), () => null, cartToken);
  }

  /** True when the anonymous cart was merged into an account (its token is void). */
  async merged(cartId: string): Promise<boolean> {
    return (await this.ctx.redis.exists(this.store.keys.anonMerged(cartId))) === 1;
  }

  /** Sets a line's quantity (1..99); 404 for a product that does not exist. */
  setQuantity(ref: CartRef, productId: number, quantity: number, cartToken?: string): Promise<string> {
    const known = this.products.peek(productId, Date.now());
    if (known) return this.change(ref, productId, quantity, cartToken);
    if (known === null) return Promise.reject(notFound(`product ${productId}`));
    return this.products.one(productId).then((found) => {
      if (!found) throw notFound(`product ${productId}`);
      return this.change(ref, productId, quantity, cartToken);
    });
  }

  remove(ref: CartRef, productId: number, cartToken?: string): Promise<string> {
    return this.change(ref, productId, 0, cartToken);
  }

  /**
   * Moves an anonymous cart into a user's cart: quantities add up, capped at the unit limit and by stock
   * (a line the user had already is never lowered). The anonymous cart is gone afterwards, even when it
   * held nothing worth merging. Returns how many lines were merged.
   */
  async mergeAnonymous(userId: string, cartId: string, tokenExpMs = Date.now() + 365 * 24 * 3600 * 1000): Promise<number> {
    // The token is void from now on, until it would have expired anyway: set before the cart is taken, so
    // no change made with it can land after the take.
    const voidMs = Math.max(1000, tokenExpMs - Date.now());
    await this.ctx.redis.set(this.store.keys.anonMerged(cartId), userId, 'PX', voidMs);
    const lines = await this.anonStore.take(cartId);
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

  private change(ref: CartRef, productId: number, quantity: number, cartToken: string | undefined): Promise<string> {
    return this.storeOf(ref).setOne(ref, productId, quantity).then(({ lines }) => this.render(lines, cartToken));
  }

  /** The cart's JSON, from the product cache when every line's product is fresh in it (no wait then). */
  private render(lines: Lines, cartToken?: string): string | Promise<string> {
    const now = Date.now();
    for (const id of lines.keys()) {
      if (this.products.peek(id, now) === undefined) {
        return this.products.get([...lines.keys()]).then((found) => renderCart(lines, (pid) => found.get(pid), cartToken));
      }
    }
    return renderCart(lines, (id) => this.products.peek(id, now), cartToken);
  }
}
