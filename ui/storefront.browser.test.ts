import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { seedCatalog } from '../scripts/seed-catalog.js';
import { bumpGeneration, PostgresSearch } from '../storefront/index.js';
import { startTestEngine, type TestEngine } from '../test/engine.js';
import { startPsp, type PspProcess } from '../test/psp.js';

/**
 * The shopper pages in a real browser (Debian chromium through playwright-core) against the whole engine and
 * the PSP simulator: search with a typo, add to the cart while anonymous, sign in (the cart merges), check
 * out, and find the order in the history. Skipped when chromium is missing.
 */
const CHROMIUM = '/usr/bin/chromium';
const artifacts = fileURLToPath(new URL('../test/artifacts/', import.meta.url));

describe.skipIf(!existsSync(CHROMIUM))('storefront pages in chromium', () => {
  let t: TestEngine;
  let psp: PspProcess;
  let browser: Browser;
  let phone: number;
  let cable: number;
  const email = 'browser-shopper@example.com';
  const password = 'a good long password';

  beforeAll(async () => {
    psp = await startPsp();
    t = await startTestEngine({ pspUrl: psp.url });
    await seedCatalog(t.ctx.db, 500);
    const add = async (sku: string, name: string, category: string, price: number, stock: number) => {
      const { rows } = await t.ctx.db.query(
        `INSERT INTO products (sku, name, description, category, price_cents) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
        [sku, name, `${name}, for the browser test.`, category, price],
      );
      await t.ctx.db.query('INSERT INTO inventory (product_id, quantity) VALUES ($1, $2)', [rows[0].id, stock]);
      return Number(rows[0].id);
    };
    phone = await add('BROWSER-IPHONE', 'Apple iPhone 15 Pro Zephyr Edition', 'phones', 109900, 5);
    cable = await add('BROWSER-CABLE', 'Braided USB-C Cable Zephyr', 'accessories', 1500, 50);
    await new PostgresSearch(t.ctx.db).reindex();
    await bumpGeneration(t.ctx.redis, t.config.redisPrefix);
    // The shopper already has an account with a cable in its cart.
    const reg = await t.api('POST', '/api/auth/register', { body: { email, password } });
    await t.api('PUT', `/api/cart/items/${cable}`, { body: { quantity: 2 }, token: reg.body.token });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await t?.cleanup();
    await psp?.cleanup();
  });

  it('search with a typo, add to the cart while anonymous, sign in (the cart merges), check out, see the order in the history', async () => {
    const context = await browser.newContext({ viewport: { width: 414, height: 896 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));

    // Search with a typo.
    await page.goto(`${t.url}/`);
    await page.getByTestId('search-q').fill('iphnoe zephyr');
    await page.getByTestId('search-submit').click();
    await page.waitForURL(/q=iphnoe/);
    const hit = page.getByTestId('hit').filter({ hasText: 'iPhone 15 Pro Zephyr' });
    await hit.waitFor();
    expect(await page.getByTestId('facets').textContent()).toMatch(/phones \(\d+\)/);

    // Add to the cart while anonymous: the page keeps the cart token the server issued.
    await page.getByTestId(`add-${phone}`).click();
    await hit.getByText('Added').waitFor();
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: `${artifacts}storefront-search.png`, fullPage: false });
    expect(await page.evaluate(() => localStorage.getItem('fs.cartToken'))).toBeTruthy();
    await page.getByTestId('nav-cart').click();
    await page.waitForURL(/\/cart$/);
    await page.getByTestId('cart-line').first().waitFor();
    expect(await page.getByTestId('cart-line').count()).toBe(1);

    // Sign in: the anonymous cart merges into the account's cart.
    await page.getByTestId('go-checkout').click();
    await page.waitForURL(/\/login\?next=/);
    await page.getByTestId('email').fill(email);
    await page.getByTestId('password').fill(password);
    await page.getByTestId('auth-submit').click();
    await page.waitForURL(/\/checkout$/);
    const summary = page.getByTestId('checkout-summary');
    await summary.getByText('iPhone 15 Pro Zephyr').waitFor();
    await page.screenshot({ path: `${artifacts}storefront-checkout.png` });
    expect(await summary.textContent()).toContain('2 × Braided USB-C Cable Zephyr');
    expect(await page.getByTestId('checkout-total').textContent()).toBe('$1129.00');
    expect(await page.evaluate(() => localStorage.getItem('fs.cartToken'))).toBeNull();

    // Check out, then see the order in the history.
    await page.getByTestId('payment-method').selectOption('pm_card_ok');
    await page.getByTestId('pay').click();
    await page.waitForURL(/\/orders\?placed=/);
    await page.getByTestId('order-placed').waitFor();
    const orderId = new URL(page.url()).searchParams.get('placed')!;
    const order = page.locator(`[data-order-id="${orderId}"]`);
    await order.getByText('iPhone 15 Pro Zephyr').waitFor();
    expect(await order.textContent()).toMatch(/paid/i);
    expect(await page.getByTestId('cart-count').textContent()).toBe('');
    await page.screenshot({ path: `${artifacts}storefront.png`, fullPage: true });

    const { rows } = await t.ctx.db.query('SELECT status, total_cents FROM orders WHERE id = $1', [orderId]);
    expect(rows[0]).toEqual({ status: 'paid', total_cents: 109900 + 2 * 1500 });
    expect(errors).toEqual([]);
    await context.close();
  });
});
