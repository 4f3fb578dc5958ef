import type { ProductInfo } from './products.js';
import type { Lines } from './store.js';

/** A cart line as the API answers it (ids are strings on the wire). */
export interface CartLine {
  productId: string;
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

/** A cart as the API answers it. */
export interface CartView {
  items: CartLine[];
  /** Units in the cart. */
  itemCount: number;
  totalCents: number;
  /** True when every line can be bought as it stands. */
  available: boolean;
  /** Anonymous carts only: the cart token to send back (also the `X-Cart-Token` header). */
  cartToken?: string;
}

const byNumber = (a: number, b: number) => a - b;

/**
 * Writes a cart answer (CartView) as JSON text straight from its lines and their products: lines in product-id
 * order, those whose product left the catalog left out. Every cart call answers with the whole cart, so this
 * skips building the objects only to serialize them; the text is what JSON.stringify of the CartView gives.
 */
export function renderCart(lines: Lines, productOf: (id: number) => ProductInfo | null | undefined, cartToken?: string): string {
  const ids = Array.from(lines.keys()).sort(byNumber);
  let items = '';
  let count = 0;
  let total = 0;
  let available = true;
  for (const id of ids) {
    const p = productOf(id);
    if (!p) continue;
    const quantity = lines.get(id)!;
    const lineTotal = p.priceCents * quantity;
    const enough = p.stock >= quantity;
    count += quantity;
    total += lineTotal;
    if (!enough) available = false;
    items += `${items ? ',' : ''}${p.lineStart}${quantity},"unitPriceCents":${p.priceCents},"lineTotalCents":${lineTotal},"inStock":${p.stock > 0},"available":${enough}}`;
  }
  const token = cartToken === undefined ? '' : `,"cartToken":${JSON.stringify(cartToken)}`;
  return `{"items":[${items}],"itemCount":${count},"totalCents":${total},"available":${available}${token}}`;
}
