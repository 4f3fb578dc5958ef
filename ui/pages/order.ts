/** One order, `/orders/:id`: status (with why a failed one failed), items and total. */
import type { Order } from '../lib/orders.js';
import { failureText } from '../lib/pay.js';
import { api, ApiError, cents, errorText, h, requireSignIn, shell } from '../lib/shop.js';

if (requireSignIn()) {
  const main = shell();
  const id = decodeURIComponent(location.pathname.split('/')[2] ?? '');
  const load = async () => {
    let o: Order;
    try {
      o = await api<Order>('GET', `/api/orders/${encodeURIComponent(id)}`);
    } catch (err) {
      const missing = err instanceof ApiError && err.status === 404;
      main.replaceChildren(h('h1', {}, missing ? 'No such order' : 'The order could not be loaded'), h('p', { class: 'muted' }, missing ? 'Check the link, or see all your orders.' : errorText(err)), h('a', { href: '/orders' }, 'Your orders'));
      return;
    }
    const items = h('ul', { 'data-testid': 'order-items' });
    for (const i of o.items) {
      const li = h('li', {}, `${i.quantity} × Product ${i.productId} at ${cents(i.unitPriceCents)}`);
      api<{ name: string }>('GET', `/api/products/${i.productId}`).then((p) => (li.textContent = `${i.quantity} × ${p.name} at ${cents(i.unitPriceCents)}`), () => {});
      items.append(li);
    }
    main.replaceChildren(
      h('p', {}, h('a', { href: '/orders' }, '← Your orders')),
      h(
        'article',
        { class: 'card', 'data-testid': 'order-detail', 'data-order-id': o.id },
        h('h1', {}, 'Order'),
        h('p', { class: 'row' }, h('span', { class: `status ${o.status}`, 'data-testid': 'order-status' }, o.status), h('strong', { class: 'total' }, cents(o.totalCents))),
        o.status === 'failed' ? h('p', { class: 'error' }, failureText(o.failureReason)) : '',
        o.status === 'pending' ? h('p', { class: 'muted' }, 'The payment is being processed; this page refreshes by itself.') : '',
        items,
        h('p', { class: 'muted small' }, `Placed ${new Date(o.createdAt).toLocaleString()} · order ${o.id}`),
      ),
    );
    if (o.status === 'pending') setTimeout(() => void load(), 2000);
  };
  void load();
}
