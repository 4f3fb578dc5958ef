/**
 * Flash sales on the shopper pages: the public list (`GET /api/sales?status=open,scheduled`), a live
 * countdown text, and the card or banner that links to the sale's queue page `/sales/:id`.
 */
import { api, cents, h } from './api.js';
import { formatDuration, type SaleView } from './queue-state.js';

export type { SaleView };

/** Live and upcoming sales (optionally of one product) whose end has not passed, soonest first. */
export async function liveAndUpcoming(productId?: string): Promise<SaleView[]> {
  const q = new URLSearchParams({ status: 'open,scheduled' });
  if (productId) q.set('productId', productId);
  const { sales } = await api<{ sales: SaleView[] }>('GET', `/api/sales?${q}`);
  return sales.filter((s) => Date.parse(s.endsAt) > Date.now());
}

/** "Starts in 4 min 10 s" / "Live · ends in 12 min 03 s" / "Ended". */
export function countdownText(sale: SaleView, now = Date.now()): string {
  const start = Date.parse(sale.startsAt);
  const end = Date.parse(sale.endsAt);
  if (sale.status === 'closed' || sale.status === 'cancelled' || now >= end) return 'Ended';
  if (now < start) return `Starts in ${formatDuration((start - now) / 1000)}`;
  return `Live · ends in ${formatDuration((end - now) / 1000)}`;
}

const isLive = (s: SaleView, now = Date.now()) => Date.parse(s.startsAt) <= now && s.status === 'open';

/**
 * A sale as a card (home page) or a banner (product page): live/upcoming badge, name, sale price against the
 * regular one, units left, a countdown that ticks every second, and the link to the queue page.
 */
export function saleCard(sale: SaleView, kind: 'card' | 'banner', regularPriceCents?: number): HTMLElement {
  const countdown = h('span', { class: 'fs-countdown', 'data-testid': 'sale-countdown' });
  const badge = h('span', { class: 'fs-badge' });
  const tick = () => {
    countdown.textContent = countdownText(sale);
    const live = isLive(sale);
    badge.textContent = live ? 'Live now' : 'Upcoming';
    badge.className = `fs-badge ${live ? 'fs-live' : 'fs-soon'}`;
  };
  tick();
  setInterval(tick, 1000);
  const price = h('span', { class: 'fs-price' }, h('strong', {}, cents(sale.priceCents)));
  if (regularPriceCents !== undefined && regularPriceCents > sale.priceCents) price.append(' ', h('s', { class: 'muted' }, cents(regularPriceCents)));
  const left = sale.status === 'open' ? `${sale.remaining.toLocaleString('en-US')} left` : `${sale.quantity.toLocaleString('en-US')} units`;
  return h(
    kind === 'card' ? 'li' : 'aside',
    { class: `card fs-${kind}`, 'data-testid': kind === 'card' ? 'flash-sale' : 'sale-banner', 'data-sale-id': sale.id },
    h('div', { class: 'row' }, badge, countdown),
    h('p', { class: 'fs-name' }, kind === 'banner' ? 'Flash sale: ' : '', h('strong', {}, sale.name)),
    h('div', { class: 'row' }, price, h('span', { class: 'muted' }, left)),
    h('a', { href: `/sales/${encodeURIComponent(sale.id)}`, class: 'button fs-go', 'data-testid': 'sale-link' }, isLive(sale) ? 'Join the line' : 'Get ready'),
  );
}
