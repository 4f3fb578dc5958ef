/**
 * Order history, `/orders`: the shopper's orders newest first, flash-sale orders with the regular ones,
 * with "Show more"; each links to `/orders/:id`.
 */
import { type Order } from '../lib/orders.js';
import { api, cents, errorText, h, message, requireSignIn, shell } from '../lib/shop.js';

if (requireSignIn()) {
  const main = shell('Your orders');
  const placed = new URLSearchParams(location.search).get('placed');
  const note = h('p', { class: 'muted' });
  const list = h('div', { 'data-testid': 'orders' });
  const more = h('button', { type: 'button', class: 'secondary' }, 'Show more') as HTMLButtonElement;
  more.hidden = true;
  if (placed) main.append(h('p', { class: 'ok', 'data-testid': 'order-placed' }, 'Thank you: your order is placed.'));
  main.append(note, list, more);
  const names = new Map<string, Promise<string>>();
  const nameOf = (id: string) => {
    if (!names.has(id)) names.set(id, api<{ name: string }>('GET', `/api/products/${id}`).then((p) => p.name, () => `Product ${id}`));
    return names.get(id)!;
  };
  let cursor: string | null = null;

  const render = (o: Order) => {
    const items = h('ul', {});
    for (const i of o.items) {
      const li = h('li', {}, `${i.quantity} × Product ${i.productId} at ${cents(i.unitPriceCents)}`);
      void nameOf(i.productId).then((n) => (li.textContent = `${i.quantity} × ${n} at ${cents(i.unitPriceCents)}`));
      items.append(li);
    }
    return h(
      'div',
      { class: `card order${o.id === placed ? ' new' : ''}`, 'data-testid': 'order', 'data-order-id': o.id },
      h('div', { class: 'row' }, h('strong', {}, new Date(o.createdAt).toLocaleString()), h('span', { class: `status ${o.status}` }, o.status), h('strong', {}, cents(o.totalCents))),
      items,
      h('p', { class: 'muted small row' }, h('a', { href: `/orders/${o.id}`, 'data-testid': 'order-link' }, `Order ${o.id}`)),
    );
  };

  const load = async () => {
    more.disabled = true;
    try {
      const page = await api<{ orders: Order[]; nextCursor: string | null }>('GET', `/api/orders?limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      for (const o of page.orders) list.append(render(o));
      if (!cursor && page.orders.length === 0) message(note, 'No orders yet.');
      cursor = page.nextCursor;
      more.hidden = !cursor;
    } catch (err) {
      message(note, errorText(err), 'error');
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener('click', () => void load());
  void load();
}
