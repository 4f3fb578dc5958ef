/**
 * Shared pieces of the shopper pages: the top bar (search box, cart count, orders, sign in/out), cart calls
 * that recover from a stale cart token, and small render helpers. Pages render with the DOM, no framework.
 */
import type { CartView } from '../../storefront/index.js';
import { api, ApiError, cents, h, session } from './api.js';

export { api, ApiError, cents, h, session };

/** The cart as the API answers it: the server's own types (type-only, nothing of the server is bundled). */
export type { CartLine } from '../../storefront/index.js';
export type Cart = CartView;

/** A cart call; a cart token the server no longer accepts is dropped and the call made again. */
export async function cartApi(method: string, path: string, body?: unknown): Promise<Cart> {
  try {
    return await api<Cart>(method, path, body);
  } catch (err) {
    if (err instanceof ApiError && err.code === 'invalid_request' && /X-Cart-Token/.test(err.message) && session.cartToken) {
      session.cartToken = null;
      return api<Cart>(method, path, body);
    }
    throw err;
  }
}

/** Sets a product's quantity in the cart to its current quantity plus `add` (at most 99). */
export async function addToCart(productId: string, add: number): Promise<Cart> {
  const cart = await cartApi('GET', '/api/cart');
  const have = cart.items.find((l) => l.productId === productId)?.quantity ?? 0;
  return cartApi('PUT', `/api/cart/items/${productId}`, { quantity: Math.min(99, have + add) });
}

let badge: HTMLElement | null = null;

export function setCartCount(n: number): void {
  if (badge) badge.textContent = n > 0 ? String(n) : '';
}

/** Renders the top bar into #app and returns the element the page renders into. */
export function shell(title?: string): HTMLElement {
  const app = document.getElementById('app')!;
  app.innerHTML = '';
  const q = h('input', { type: 'search', name: 'q', placeholder: 'Search products', 'aria-label': 'Search products', 'data-testid': 'nav-search' }) as HTMLInputElement;
  q.value = location.pathname === '/' ? new URLSearchParams(location.search).get('q') ?? '' : '';
  const form = h('form', { class: 'nav-search', action: '/', method: 'get' }, q);
  badge = h('span', { class: 'badge', 'data-testid': 'cart-count' });
  const account = session.token
    ? h('a', { href: '#', 'data-testid': 'sign-out' }, 'Sign out')
    : h('a', { href: `/login?next=${encodeURIComponent(location.pathname + location.search)}`, 'data-testid': 'sign-in' }, 'Sign in');
  if (session.token) {
    account.addEventListener('click', (e) => {
      e.preventDefault();
      session.signOut();
      location.href = '/';
    });
  }
  const nav = h(
    'nav',
    { class: 'top' },
    h('a', { href: '/', class: 'brand' }, 'Shop'),
    form,
    h('a', { href: '/cart', 'data-testid': 'nav-cart' }, 'Cart ', badge),
    ...(session.token ? [h('a', { href: '/orders', 'data-testid': 'nav-orders' }, 'Orders')] : []),
    account,
  );
  const main = h('main');
  app.append(nav);
  if (title) main.append(h('h1', {}, title));
  app.append(main);
  cartApi('GET', '/api/cart').then((c) => setCartCount(c.itemCount), () => {});
  return main;
}

/** Sends a signed-out shopper to the sign-in page, coming back here afterwards. */
export function requireSignIn(): boolean {
  if (session.token) return true;
  location.href = `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
  return false;
}

export function message(el: HTMLElement, text: string, kind: 'error' | 'ok' | 'muted' = 'muted'): void {
  el.textContent = text;
  el.className = kind;
}

export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 401) return 'Please sign in again.';
    return err.message;
  }
  return 'Something went wrong. Check your connection and try again.';
}

/** A random key for an Idempotency-Key header. */
export function randomKey(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}
