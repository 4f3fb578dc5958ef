/** The product page, `/products/:id`: name, price, stock, description, and "Add to cart" with a quantity. */
import { addToCart, api, ApiError, cents, errorText, h, message, setCartCount, shell } from '../lib/shop.js';
import { liveAndUpcoming, saleCard } from '../lib/sales.js';

interface Product {
  id: string;
  name: string;
  description: string;
  category: string;
  priceCents: number;
  inStock: boolean;
}

const main = shell();
const id = decodeURIComponent(location.pathname.split('/')[2] ?? '');

async function load(): Promise<void> {
  let p: Product;
  try {
    p = await api<Product>('GET', `/api/products/${encodeURIComponent(id)}`);
  } catch (err) {
    const missing = err instanceof ApiError && (err.status === 404 || err.status === 400);
    main.append(h('h1', {}, missing ? 'No such product' : 'The product could not be loaded'), h('p', { class: 'muted' }, missing ? 'It may have been removed.' : errorText(err)));
    return;
  }
  document.title = p.name;
  const qty = h('input', { type: 'number', min: '1', max: '99', value: '1', 'aria-label': 'Quantity', 'data-testid': 'quantity' }) as HTMLInputElement;
  const add = h('button', { type: 'button', 'data-testid': 'add-to-cart' }, 'Add to cart') as HTMLButtonElement;
  const note = h('p', { class: 'muted', 'data-testid': 'add-note' });
  add.disabled = !p.inStock;
  add.addEventListener('click', async () => {
    const n = Number(qty.value);
    if (!Number.isInteger(n) || n < 1 || n > 99) return message(note, 'Choose a quantity from 1 to 99.', 'error');
    add.disabled = true;
    try {
      const cart = await addToCart(p.id, n);
      setCartCount(cart.itemCount);
      note.innerHTML = '';
      note.className = 'ok';
      note.append('Added to your cart. ', h('a', { href: '/cart' }, 'View cart'));
    } catch (err) {
      message(note, errorText(err), 'error');
    } finally {
      add.disabled = false;
    }
  });
  // A live or upcoming flash sale of this product: a banner with the sale price and the way in.
  void liveAndUpcoming(p.id).then(
    (sales) => sales[0] && main.prepend(saleCard(sales[0], 'banner', p.priceCents)),
    () => {},
  );
  main.append(
    h(
      'article',
      { class: 'card' },
      h('p', { class: 'muted' }, p.category),
      h('h1', { 'data-testid': 'product-name' }, p.name),
      h('p', { class: 'price' }, cents(p.priceCents)),
      h('p', { class: p.inStock ? 'ok' : 'error' }, p.inStock ? 'In stock' : 'Out of stock'),
      h('div', { class: 'row' }, qty, add),
      note,
      h('p', {}, p.description),
    ),
  );
}

void load();
