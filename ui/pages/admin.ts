/**
 * The merchant console, `/admin`: the sales (list with live stock, a link to each sale's live dashboard,
 * and the form that schedules a sale with every field of `POST /admin/sales`) and the products (list and
 * create). Everything comes from the admin API with the key kept for the browser session.
 */
import { adminApi, cents, consoleShell, fmtTime, h, toLocalInput } from '../lib/admin.js';
import { consoleForm } from '../lib/admin-form.js';

interface Product {
  id: string;
  sku: string;
  name: string;
  category: string;
  priceCents: number;
  stock: number;
}
interface AdminSale {
  id: string;
  productId: string;
  name: string;
  status: string;
  quantity: number;
  priceCents: number;
  startsAt: string;
  endsAt: string;
  waitingRoom: boolean;
  stats: { remaining: number; held: number; sold: number };
}

const tab = location.hash === '#products' ? 'products' : 'sales';
const main = consoleShell(tab);
if (main) void (tab === 'products' ? products(main) : sales(main));
addEventListener('hashchange', () => location.reload());

const productOptions = (list: Product[]): Array<[string, string]> => list.map((p) => [p.id, `#${p.id} ${p.name} (${p.stock} in stock, ${cents(p.priceCents)})`]);

async function sales(main: HTMLElement): Promise<void> {
  const list = h('tbody', { 'data-testid': 'sales' });
  const note = h('p', { class: 'muted' });
  const now = Date.now();
  const form = consoleForm(
    'Schedule a sale',
    [
      { name: 'productId', label: 'Product', kind: 'select', required: true, options: [] },
      { name: 'quantity', label: 'Units for sale', kind: 'int', value: '100', required: true },
      { name: 'priceCents', label: 'Sale price ($)', kind: 'money', value: '', required: true },
      { name: 'startsAt', label: 'Starts at', kind: 'datetime', value: toLocalInput(new Date(now + 2 * 60_000)), required: true, hint: 'your local time' },
      { name: 'endsAt', label: 'Ends at', kind: 'datetime', value: toLocalInput(new Date(now + 62 * 60_000)), required: true },
      { name: 'perUserLimit', label: 'Units per shopper', kind: 'int', value: '1', required: true },
      { name: 'holdSeconds', label: 'Hold time (s)', kind: 'int', value: '120', required: true, hint: 'how long a reservation waits for payment' },
      { name: 'waitingRoom', label: 'Waiting room', kind: 'bool', value: 'true', hint: 'shoppers queue and are admitted in batches' },
      { name: 'admission.batchSize', label: 'Admission batch', kind: 'int', hint: 'shoppers admitted per tick (default 100)' },
      { name: 'admission.intervalMs', label: 'Admission interval (ms)', kind: 'int', hint: 'time between ticks (default 1000)' },
      { name: 'admission.windowSeconds', label: 'Reserve window (s)', kind: 'int', hint: 'time an admitted shopper has to reserve (default 120)' },
      { name: 'admission.overAdmissionFactor', label: 'Over-admission factor', kind: 'number', hint: 'admit up to this many shoppers per unit left (1-10)' },
      { name: 'queueOpensAt', label: 'Line opens at', kind: 'datetime', hint: 'default: 10 minutes before the start' },
      { name: 'powDifficulty', label: 'Proof of work (bits)', kind: 'int', value: '0', hint: '0 = none; each bit doubles the work per join' },
    ],
    'Schedule',
    'sale-form',
  );
  form.el.addEventListener('submit', async (e) => {
    e.preventDefault();
    form.clearErrors();
    try {
      const sale = await adminApi<AdminSale>('POST', '/admin/sales', form.body());
      note.className = 'ok';
      note.replaceChildren(`Sale #${sale.id} scheduled. `, h('a', { href: `/dashboard/sales/${sale.id}` }, 'Open its live dashboard'));
      await load();
    } catch (err) {
      form.showError(err);
    }
  });
  main.append(
    h('h1', {}, 'Sales'),
    h('div', { class: 'card table-wrap' }, h('table', { class: 'admin-table' }, h('thead', {}, h('tr', {}, ...['#', 'Product', 'Status', 'Price', 'Units', 'Left / held / sold', 'Starts', 'Ends', ''].map((c) => h('th', {}, c)))), list)),
    note,
    form.el,
  );
  const load = async () => {
    const [{ sales }, { products }] = await Promise.all([adminApi<{ sales: AdminSale[] }>('GET', '/admin/sales'), adminApi<{ products: Product[] }>('GET', '/admin/products')]);
    form.setOptions('productId', productOptions(products));
    list.replaceChildren(
      ...sales.map((s) =>
        h(
          'tr',
          { 'data-sale-id': s.id },
          h('td', {}, s.id),
          h('td', {}, s.name),
          h('td', {}, h('span', { class: `sale-status ${s.status}` }, s.status)),
          h('td', {}, cents(s.priceCents)),
          h('td', {}, String(s.quantity)),
          h('td', {}, `${s.stats.remaining} / ${s.stats.held} / ${s.stats.sold}`),
          h('td', {}, fmtTime(s.startsAt)),
          h('td', {}, fmtTime(s.endsAt)),
          h('td', {}, h('a', { href: `/dashboard/sales/${s.id}`, 'data-testid': 'dashboard-link' }, 'Live dashboard')),
        ),
      ),
    );
    if (sales.length === 0) list.append(h('tr', {}, h('td', { colspan: '9', class: 'muted' }, 'No sales yet: schedule one below.')));
  };
  await load();
}

async function products(main: HTMLElement): Promise<void> {
  const list = h('tbody', { 'data-testid': 'products' });
  const note = h('p', { class: 'muted' });
  const form = consoleForm(
    'Add a product',
    [
      { name: 'sku', label: 'SKU', kind: 'text', required: true },
      { name: 'name', label: 'Name', kind: 'text', required: true },
      { name: 'category', label: 'Category', kind: 'text' },
      { name: 'priceCents', label: 'Regular price ($)', kind: 'money', required: true },
      { name: 'stock', label: 'Units in stock', kind: 'int', value: '0', required: true },
      { name: 'description', label: 'Description', kind: 'textarea' },
    ],
    'Add product',
    'product-form',
  );
  form.el.addEventListener('submit', async (e) => {
    e.preventDefault();
    form.clearErrors();
    try {
      const p = await adminApi<Product>('POST', '/admin/products', form.body());
      note.className = 'ok';
      note.textContent = `Product #${p.id} added.`;
      form.el.reset();
      await load();
    } catch (err) {
      form.showError(err);
    }
  });
  main.append(
    h('h1', {}, 'Products'),
    h('div', { class: 'card table-wrap' }, h('table', { class: 'admin-table' }, h('thead', {}, h('tr', {}, ...['#', 'SKU', 'Name', 'Category', 'Price', 'Stock'].map((c) => h('th', {}, c)))), list)),
    note,
    form.el,
  );
  const load = async () => {
    const { products } = await adminApi<{ products: Product[] }>('GET', '/admin/products');
    list.replaceChildren(
      ...products.map((p) => h('tr', { 'data-product-id': p.id }, h('td', {}, p.id), h('td', {}, p.sku), h('td', {}, p.name), h('td', {}, p.category), h('td', {}, cents(p.priceCents)), h('td', {}, String(p.stock)))),
    );
    if (products.length === 0) list.append(h('tr', {}, h('td', { colspan: '6', class: 'muted' }, 'No products yet.')));
  };
  await load();
}
