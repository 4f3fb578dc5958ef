/**
 * The search page, `/`: a typo-tolerant search box with filters (category, price range, in stock), sort,
 * category facets with counts, paging and "Add to cart". The query lives in the URL, so links and the back
 * button work.
 */
import { addToCart, api, cents, errorText, h, message, setCartCount, shell } from '../lib/shop.js';
import { liveAndUpcoming, saleCard } from '../lib/sales.js';

interface Hit {
  id: string;
  name: string;
  priceCents: number;
  category: string;
  inStock: boolean;
}
interface Result {
  total: number;
  hits: Hit[];
  facets: { category: Array<{ value: string; count: number }> };
}

const pageSize = 20;
const params = new URLSearchParams(location.search);
const main = shell();

const dollars = (v: string | null) => (v ? String(Number(v) / 100) : '');
const toCents = (v: string) => (v.trim() === '' ? '' : String(Math.round(Number(v) * 100)));

const q = h('input', { type: 'search', name: 'q', placeholder: 'Try "iphnoe" or "headphnes"', 'data-testid': 'search-q' }) as HTMLInputElement;
q.value = params.get('q') ?? '';
const minPrice = h('input', { type: 'number', min: '0', step: '0.01', placeholder: 'Min $', 'aria-label': 'Minimum price', 'data-testid': 'min-price' }) as HTMLInputElement;
minPrice.value = dollars(params.get('minPrice'));
const maxPrice = h('input', { type: 'number', min: '0', step: '0.01', placeholder: 'Max $', 'aria-label': 'Maximum price', 'data-testid': 'max-price' }) as HTMLInputElement;
maxPrice.value = dollars(params.get('maxPrice'));
const inStock = h('input', { type: 'checkbox', 'data-testid': 'in-stock' }) as HTMLInputElement;
inStock.checked = params.get('inStock') === 'true';
const sort = h('select', { 'aria-label': 'Sort', 'data-testid': 'sort' }) as HTMLSelectElement;
for (const [value, label] of [['relevance', 'Best match'], ['price_asc', 'Price: low to high'], ['price_desc', 'Price: high to low']]) {
  sort.append(h('option', { value }, label));
}
sort.value = params.get('sort') ?? 'relevance';

const form = h(
  'form',
  { class: 'card search-form', 'data-testid': 'search-form' },
  h('div', { class: 'row' }, q, h('button', { type: 'submit', 'data-testid': 'search-submit' }, 'Search')),
  h('div', { class: 'row filters' }, minPrice, maxPrice, h('label', {}, inStock, ' In stock only'), sort),
) as HTMLFormElement;
const status = h('p', { class: 'muted', 'data-testid': 'search-status' });
const facets = h('div', { class: 'facets', 'data-testid': 'facets' });
const results = h('ul', { class: 'results', 'data-testid': 'results' });
const pager = h('div', { class: 'row pager' });
const flash = h('section', { class: 'fs-section', 'data-testid': 'flash-sales', hidden: '' });
main.append(flash, form, status, facets, results, pager);

/** Live and upcoming flash sales above the search (hidden when there are none). */
async function showSales(): Promise<void> {
  const sales = await liveAndUpcoming().catch(() => []);
  if (sales.length === 0) return;
  flash.replaceChildren(h('h2', {}, 'Flash sales'), h('ul', { class: 'fs-list' }, ...sales.slice(0, 6).map((s) => saleCard(s, 'card'))));
  flash.hidden = false;
}

/** Navigates to the search with these parameters (blank ones left out). */
function go(changes: Record<string, string>): void {
  const next = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(changes)) {
    if (v === '') next.delete(k);
    else next.set(k, v);
  }
  if (!('page' in changes)) next.delete('page');
  location.search = next.toString();
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  go({ q: q.value.trim(), minPrice: toCents(minPrice.value), maxPrice: toCents(maxPrice.value), inStock: inStock.checked ? 'true' : '', sort: sort.value === 'relevance' ? '' : sort.value });
});
sort.addEventListener('change', () => form.requestSubmit());
inStock.addEventListener('change', () => form.requestSubmit());

function renderHit(hit: Hit): HTMLElement {
  const note = h('span', { class: 'muted' });
  const add = h('button', { type: 'button', 'data-testid': `add-${hit.id}` }, 'Add to cart') as HTMLButtonElement;
  add.disabled = !hit.inStock;
  add.addEventListener('click', async () => {
    add.disabled = true;
    try {
      const cart = await addToCart(hit.id, 1);
      setCartCount(cart.itemCount);
      message(note, 'Added', 'ok');
    } catch (err) {
      message(note, errorText(err), 'error');
    } finally {
      add.disabled = false;
    }
  });
  return h(
    'li',
    { class: 'card hit', 'data-testid': 'hit' },
    h('a', { href: `/products/${hit.id}`, class: 'hit-name' }, hit.name),
    h('div', { class: 'row' }, h('strong', {}, cents(hit.priceCents)), h('span', { class: 'muted' }, hit.category), h('span', { class: hit.inStock ? 'ok' : 'error' }, hit.inStock ? 'In stock' : 'Out of stock')),
    h('div', { class: 'row' }, add, note),
  );
}

async function run(): Promise<void> {
  const query = new URLSearchParams();
  for (const k of ['q', 'category', 'minPrice', 'maxPrice', 'inStock', 'sort', 'page']) {
    const v = params.get(k);
    if (v) query.set(k, v);
  }
  query.set('pageSize', String(pageSize));
  status.textContent = 'Searching…';
  let res: Result;
  try {
    res = await api<Result>('GET', `/api/products/search?${query}`);
  } catch (err) {
    message(status, errorText(err), 'error');
    return;
  }
  const page = Number(params.get('page') ?? 1);
  message(status, res.total === 0 ? 'No products match. Try fewer words or filters.' : `${res.total.toLocaleString()} products`);
  const active = params.get('category');
  facets.innerHTML = '';
  if (active) {
    const clear = h('button', { type: 'button', class: 'chip on', 'data-testid': 'facet-clear' }, `${active} ✕`);
    clear.addEventListener('click', () => go({ category: '' }));
    facets.append(clear);
  }
  for (const f of res.facets.category) {
    if (f.value === active) continue;
    const chip = h('button', { type: 'button', class: 'chip', 'data-testid': 'facet' }, `${f.value} (${f.count})`);
    chip.addEventListener('click', () => go({ category: f.value }));
    facets.append(chip);
  }
  results.innerHTML = '';
  for (const hit of res.hits) results.append(renderHit(hit));
  pager.innerHTML = '';
  if (page > 1) {
    const prev = h('button', { type: 'button' }, '← Previous');
    prev.addEventListener('click', () => go({ page: String(page - 1) }));
    pager.append(prev);
  }
  if (page * pageSize < res.total) {
    const next = h('button', { type: 'button' }, 'Next →');
    next.addEventListener('click', () => go({ page: String(page + 1) }));
    pager.append(next);
  }
}

void showSales();
void run();
