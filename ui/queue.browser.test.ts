import { existsSync, mkdirSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestEngine, type TestEngine } from '../test/engine.js';

/**
 * The shopper queue page in a real browser (Debian chromium through playwright-core), on a phone-sized
 * screen, against the whole engine: sign up on the page, join the line, get admitted, reserve, see the
 * confirmation; a second shopper sees the sell-out and then the close. Skipped when chromium is missing.
 */
const CHROMIUM = '/usr/bin/chromium';
const ADMIN = { authorization: 'Bearer test-admin-key' };
const artifacts = fileURLToPath(new URL('../test/artifacts/', import.meta.url));
const phone = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

describe.skipIf(!existsSync(CHROMIUM))('queue page in chromium', () => {
  let t: TestEngine;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    t = await startTestEngine();
    const { chromium } = await import('playwright-core');
    // playwright gives the browser a fresh temporary profile of its own.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await t?.cleanup();
  });

  async function createSale(quantity: number, startsInMs: number, extra: Record<string, unknown> = {}): Promise<string> {
    const sku = `QUEUE-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    const product = await t.api('POST', '/admin/products', { headers: ADMIN, body: { sku, name: 'Trail Runner 2 — Limited', priceCents: 12999, stock: 10 } });
    expect(product.status, JSON.stringify(product.body)).toBe(201);
    const now = Date.now();
    const sale = await t.api('POST', '/admin/sales', {
      headers: ADMIN,
      body: {
        productId: product.body.id,
        quantity,
        priceCents: 4999,
        startsAt: new Date(now + startsInMs).toISOString(),
        endsAt: new Date(now + 30 * 60_000).toISOString(),
        perUserLimit: 1,
        holdSeconds: 300,
        waitingRoom: true,
        admission: { batchSize: 10, intervalMs: 300 },
        ...extra,
      },
    });
    expect(sale.status, JSON.stringify(sale.body)).toBe(201);
    return String(sale.body.id);
  }

  async function openPhone(): Promise<Page> {
    const context = await browser.newContext(phone);
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error('page error:', err));
    return page;
  }

  async function signUp(page: Page, email: string): Promise<void> {
    await page.locator('.q-signin input[name=email]').fill(email);
    await page.locator('.q-signin input[name=password]').fill('correct horse battery');
    await page.locator('.q-register').click();
    await page.locator('.q-signin').waitFor({ state: 'hidden' });
  }

  const phase = (page: Page, name: string, timeout = 30_000) => page.locator(`.q-status[data-phase="${name}"]`).waitFor({ timeout });

  it('on a phone: sign up, join, get admitted, reserve, see the confirmation; a second shopper sees sold out, then closed', async () => {
    const saleId = await createSale(1, 6000);
    const page = await openPhone();
    await page.goto(`${t.url}/sales/${saleId}`);

    // Product, price and the countdown to the start, with a sign-in form because there is no token yet.
    await expect.poll(() => page.locator('.q-name').textContent()).toBe('Trail Runner 2 — Limited');
    expect(await page.locator('.q-price strong').textContent()).toBe('$49.99');
    expect(await page.locator('.q-start').textContent()).toMatch(/^(Starts in \d+ s|On now · ends in .+)$/);
    await signUp(page, `shopper-a-${saleId}@example.com`);
    expect(await page.evaluate(() => localStorage.getItem('fs.token'))).toBeTruthy();

    // In line (position shown) or already through; then "You're in" with the time left.
    await page.locator('.q-status[data-phase="queued"], .q-status[data-phase="admitted"]').waitFor();
    await phase(page, 'admitted');
    expect(await page.locator('.q-status h2').textContent()).toBe("You're in!");
    expect(await page.locator('.q-left').textContent()).toMatch(/\d+ (min|s)/);

    // The page fits the phone: nothing scrolls sideways.
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);

    await page.locator('.q-reserve').click();
    await phase(page, 'reserved');
    expect(await page.locator('.q-status h2').textContent()).toBe('Reserved ✓');
    const reservationId = await page.locator('.q-reservation-id').textContent();
    expect(reservationId).toBeTruthy();
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'queue.png'), fullPage: true });

    // The engine agrees: one unit held for this sale.
    const stats = await t.api('GET', `/admin/sales/${saleId}`, { headers: ADMIN });
    expect(stats.body.stats).toMatchObject({ held: 1, remaining: 0 });

    // A second shopper arrives after the only unit is held: "Sold out, for now" (holds may return).
    const late = await openPhone();
    await late.goto(`${t.url}/sales/${saleId}`);
    await signUp(late, `shopper-b-${saleId}@example.com`);
    await late.locator('.q-status[data-phase="sold_out"], .q-status[data-phase="admitted"]').waitFor();
    await expect.poll(() => late.locator('.q-remaining').textContent()).toBe('none left');
    await late.screenshot({ path: join(artifacts, 'queue-sold-out.png'), fullPage: true });

    // The merchant closes the sale: the second shopper is told; the first keeps the confirmation.
    const closed = await t.api('POST', `/admin/sales/${saleId}/close`, { headers: ADMIN });
    expect(closed.status).toBeLessThan(300);
    await phase(late, 'closed', 10_000);
    expect(await late.locator('.q-status h2').textContent()).toBe('This sale has ended');
    expect(await page.locator('.q-status').getAttribute('data-phase')).toBe('reserved');
  });

  it('a dropped connection is retried by itself and the shopper keeps the place', async () => {
    const saleId = await createSale(5, 60_000); // starts in a minute: everyone waits in the pre-start line
    // The browser talks to the engine through a TCP relay, so the test can cut the line under it.
    const links = new Set<Socket>();
    let accepted = 0;
    const relay = createServer((inbound) => {
      accepted += 1;
      const outbound = connect(t.engine.port, '127.0.0.1');
      for (const s of [inbound, outbound]) {
        links.add(s);
        s.on('error', () => {});
        s.on('close', () => links.delete(s));
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const relayUrl = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`;
    try {
      const page = await openPhone();
      await page.goto(`${relayUrl}/sales/${saleId}`);
      // The countdown to the start (a minute away).
      await expect.poll(() => page.locator('.q-start').textContent()).toMatch(/^Starts in (1 min 00 s|\d+ s)$/);
      await signUp(page, `shopper-c-${saleId}@example.com`);
      await phase(page, 'queued');
      await expect.poll(() => page.locator('.q-conn').textContent()).toContain('Live');

      const before = accepted;
      for (const s of links) s.destroy(); // the connection drops (no close frame)
      await expect.poll(() => accepted, { timeout: 30_000 }).toBeGreaterThan(before); // it dialled again
      await expect.poll(() => page.locator('.q-conn').textContent(), { timeout: 30_000 }).toContain('Live');
      expect(await page.locator('.q-status').getAttribute('data-phase')).toBe('queued');
      await checkPlace(page, saleId);
    } finally {
      for (const s of links) s.destroy();
      relay.close();
    }
  });

  async function checkPlace(page: Page, saleId: string): Promise<void> {
    // The server still holds the place for this user.
    const token = await page.evaluate(() => localStorage.getItem('fs.token'));
    const place = await t.api('GET', `/api/sales/${saleId}/queue`, { token: token! });
    expect(place.status).toBe(200);
    expect(place.body.status).toBe('waiting');
  }

  it('without WebSocket the page falls back to HTTP polling and still gets to the confirmation', async () => {
    const saleId = await createSale(3, 1000);
    const page = await openPhone();
    await page.addInitScript(() => {
      // @ts-expect-error: a browser without WebSocket
      delete window.WebSocket;
    });
    await page.goto(`${t.url}/sales/${saleId}`);
    await signUp(page, `shopper-d-${saleId}@example.com`);
    await phase(page, 'admitted');
    await page.locator('.q-reserve').click();
    await phase(page, 'reserved');
  });

  it('a sale that asks for proof of work: the page does the work, joins and gets admitted', async () => {
    const saleId = await createSale(3, 1000, { powDifficulty: 14 });
    const page = await openPhone();
    await page.goto(`${t.url}/sales/${saleId}`);
    await signUp(page, `shopper-e-${saleId}@example.com`);
    await phase(page, 'admitted');
    const nonce = await page.evaluate((id) => Object.entries(sessionStorage).find(([k]) => k.startsWith(`fs.pow.${id}.`))?.[1], saleId);
    expect(nonce).toBeTruthy();
  });

  it('an unknown sale shows a clear message, not a broken page', async () => {
    const page = await openPhone();
    await page.goto(`${t.url}/sales/999999999`);
    await expect.poll(() => page.locator('h1').textContent()).toBe('No such sale');
  });
});
