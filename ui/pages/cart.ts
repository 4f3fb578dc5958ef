/**
 * The cart page, `/cart`: lines at current prices with their availability, quantity changes, removal, the
 * total, and the way to checkout (signing in first when needed; the cart comes along).
 */
import { cartApi, cents, errorText, h, message, session, setCartCount, shell, type Cart } from '../lib/shop.js';

const main = shell('Your cart');
const box = h('div', { 'data-testid': 'cart' });
const note = h('p', { class: 'muted' });
main.append(note, box);

function render(cart: Cart): void {
  setCartCount(cart.itemCount);
  box.innerHTML = '';
  if (cart.items.length === 0) {
    box.append(h('p', { class: 'muted', 'data-testid': 'cart-empty' }, 'Your cart is empty. '), h('a', { href: '/' }, 'Find something'));
    return;
  }
  for (const line of cart.items) {
    const qty = h('input', { type: 'number', min: '1', max: '99', value: String(line.quantity), 'aria-label': `Quantity of ${line.name}`, 'data-testid': `qty-${line.productId}` }) as HTMLInputElement;
    qty.addEventListener('change', () => {
      const n = Number(qty.value);
      if (!Number.isInteger(n) || n < 1 || n > 99) return message(note, 'Quantities go from 1 to 99.', 'error');
      void change(() => cartApi('PUT', `/api/cart/items/${line.productId}`, { quantity: n }));
    });
    const remove = h('button', { type: 'button', class: 'secondary', 'data-testid': `remove-${line.productId}` }, 'Remove');
    remove.addEventListener('click', () => void change(() => cartApi('DELETE', `/api/cart/items/${line.productId}`)));
    const availability = !line.inStock ? 'Out of stock' : line.available ? 'In stock' : 'Not enough in stock for this quantity';
    box.append(
      h(
        'div',
        { class: 'card line', 'data-testid': 'cart-line' },
        h('a', { href: `/products/${line.productId}` }, line.name),
        h('div', { class: 'row' }, h('span', {}, `${cents(line.unitPriceCents)} each`), qty, h('strong', {}, cents(line.lineTotalCents)), remove),
        h('p', { class: line.available ? 'ok' : 'error' }, availability),
      ),
    );
  }
  const go = h('a', { class: 'button', href: session.token ? '/checkout' : '/login?next=%2Fcheckout', 'data-testid': 'go-checkout' }, session.token ? 'Check out' : 'Sign in to check out');
  box.append(h('div', { class: 'card row total' }, h('span', {}, `Total (${cart.itemCount} items)`), h('strong', { 'data-testid': 'cart-total' }, cents(cart.totalCents))), go);
  if (!cart.available) box.append(h('p', { class: 'error' }, 'Some items are short of stock; lower their quantity to check out.'));
}

async function change(call: () => Promise<Cart>): Promise<void> {
  try {
    render(await call());
    message(note, '');
  } catch (err) {
    message(note, errorText(err), 'error');
  }
}

void change(() => cartApi('GET', '/api/cart'));
