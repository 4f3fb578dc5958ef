/**
 * The checkout page, `/checkout`: the order summary, a payment method and "Pay". One Idempotency-Key per
 * attempt, kept across a reload, so a double click or a retry after a network error never pays twice; a
 * definite failure (declined, out of stock) starts a new attempt.
 */
import { api, ApiError, cartApi, cents, errorText, h, message, randomKey, requireSignIn, shell, type Cart } from '../lib/shop.js';

const attemptKey = 'fs.checkoutKey';

if (requireSignIn()) {
  const main = shell('Checkout');
  const summary = h('div', { class: 'card', 'data-testid': 'checkout-summary' });
  const method = h('select', { 'aria-label': 'Payment method', 'data-testid': 'payment-method' }) as HTMLSelectElement;
  for (const [value, label] of [['pm_card_ok', 'Test card (succeeds)'], ['pm_card_declined', 'Test card (declined)']]) method.append(h('option', { value }, label));
  const pay = h('button', { type: 'button', 'data-testid': 'pay' }, 'Pay') as HTMLButtonElement;
  const note = h('p', { class: 'muted', 'data-testid': 'checkout-note' });
  main.append(summary, h('div', { class: 'card row' }, h('label', {}, 'Pay with ', method), pay), note);

  const show = (cart: Cart) => {
    summary.innerHTML = '';
    if (cart.items.length === 0) {
      summary.append(h('p', { class: 'muted' }, 'Your cart is empty. '), h('a', { href: '/' }, 'Find something'));
      pay.disabled = true;
      return;
    }
    for (const l of cart.items) summary.append(h('div', { class: 'row line' }, h('span', {}, `${l.quantity} × ${l.name}`), h('span', {}, cents(l.lineTotalCents))));
    summary.append(h('div', { class: 'row total' }, h('strong', {}, 'Total'), h('strong', { 'data-testid': 'checkout-total' }, cents(cart.totalCents))));
    pay.disabled = false;
  };

  pay.addEventListener('click', async () => {
    pay.disabled = true;
    const key = sessionStorage.getItem(attemptKey) ?? randomKey();
    sessionStorage.setItem(attemptKey, key);
    message(note, 'Paying…');
    try {
      const res = await api<{ orderId: string; status: string }>('POST', '/api/checkout', { paymentMethod: method.value }, { 'idempotency-key': key });
      sessionStorage.removeItem(attemptKey);
      location.href = `/orders?placed=${encodeURIComponent(res.orderId)}`;
    } catch (err) {
      // Known outcomes end this attempt; an unknown one (network, 503, in progress) keeps its key for a retry.
      if (err instanceof ApiError && err.status !== 503 && err.code !== 'idempotency_conflict') sessionStorage.removeItem(attemptKey);
      message(note, err instanceof ApiError && err.code === 'out_of_stock' ? `Sorry: ${err.message}. Update your cart and try again.` : errorText(err), 'error');
      pay.disabled = false;
      cartApi('GET', '/api/cart').then(show, () => {});
    }
  });

  cartApi('GET', '/api/cart').then(show, (err) => message(note, errorText(err), 'error'));
}
