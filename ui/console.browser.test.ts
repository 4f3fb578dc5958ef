import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import WebSocket from 'ws';
import { eventually, makeUsers } from '../test/sales.js';
import { CHROMIUM, desktop, launchChromium, openPage, shot } from '../test/browser.js';
import { startTestEngine, type TestEngine } from '../test/engine.js';
import { startPsp, type PspProcess } from '../test/psp.js';

/**
 * The merchant console in Chromium: the admin key once per browser session, products (create, with the
 * API's validation error beside its field), a sale scheduled through the form (errors beside quantity and
 * a nested admission field), then the live dashboard while simulated shoppers (a small script here:
 * WebSocket join, admission, reserve, pay; a third pay with a declined card first and retry) buy every
 * unit; its numbers move over the console socket, the integrity line holds and the oversell counter reads
 * 0; reconcile and close ask first. Skipped when chromium is missing.
 */
const KEY = 'test-admin-key';

describe.skipIf(!existsSync(CHROMIUM))('merchant console in chromium', () => {
  let t: TestEngine;
  let psp: PspProcess;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    psp = await startPsp({ latencyMs: '20-60' });
    t = await startTestEngine({ pspUrl: psp.url, pspTimeoutMs: 1000, settleAttempts: 3, settleBackoffMs: 50 });
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await t?.cleanup();
    await psp?.cleanup();
  });

  /** One simulated shopper: joins the line over the socket, reserves when admitted, pays (a declined card first when asked). */
  let declined = 0;
  async function shopper(saleId: string, user: { id: string; token: string }, declineFirst: boolean): Promise<'paid' | 'sold_out' | 'closed'> {
    const ws = new WebSocket(`${t.url.replace('http', 'ws')}/ws/sales/${saleId}?token=${user.token}`);
    try {
      const admission = await new Promise<string | null>((resolve, reject) => {
        ws.on('message', (raw) => {
          const m = JSON.parse(String(raw));
          if (m.type === 'admitted') resolve(m.admissionToken);
          if ((m.type === 'sold_out' && m.final) || m.type === 'closed') resolve(null);
        });
        ws.on('error', reject);
        ws.on('close', () => resolve(null));
      });
      if (!admission) return 'closed';
      const r = await t.api('POST', `/api/sales/${saleId}/reservations`, { token: user.token, body: { quantity: 1 }, headers: { 'admission-token': admission } });
      if (r.status !== 201) return 'sold_out';
      let rid: string = r.body.reservationId;
      for (const card of declineFirst ? ['pm_card_declined', 'pm_card_ok'] : ['pm_card_ok']) {
        const pay = await t.api('POST', `/api/reservations/${rid}/checkout`, { token: user.token, body: { paymentMethod: card }, headers: { 'idempotency-key': `k-${rid}` } });
        expect(pay.status, JSON.stringify(pay.body)).toBe(202);
        const order = await eventually(async () => {
          const o = await t.api('GET', `/api/orders/${pay.body.orderId}`, { token: user.token });
          return o.body.status !== 'pending' ? o.body : undefined;
        }, 'the order to settle');
        if (order.status === 'paid') return 'paid';
        declined += 1;
        rid = order.retry.reservationId; // declined: the unit is still held under a new reservation
      }
      throw new Error('not paid');
    } finally {
      ws.close();
    }
  }

  async function setLocalTime(page: Page, field: string, ms: number): Promise<void> {
    await page.locator(`[data-field="${field}"]`).evaluate((el, at) => {
      const d = new Date(at);
      const p = (n: number) => String(n).padStart(2, '0');
      (el as HTMLInputElement).value = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    }, ms);
  }

  const value = (page: Page, key: string) => page.locator(`[data-value="${key}"]`).textContent();

  it('the merchant schedules a sale in the console and watches its numbers move while shoppers buy', async () => {
    const page = await openPage(browser, contexts, desktop);
    page.on('dialog', (d) => void d.accept());

    // The key, once: a wrong one is refused, the right one is kept for the session.
    await page.goto(`${t.url}/admin`);
    await page.locator('[data-testid="admin-key"]').fill('wrong');
    await page.locator('[data-testid="admin-key-submit"]').click();
    await expect.poll(() => page.locator('.admin-key .error').textContent()).toBe('That key was not accepted.');
    await page.locator('[data-testid="admin-key"]').fill(KEY);
    await page.locator('[data-testid="admin-key-submit"]').click();
    await page.locator('[data-testid="sale-form"]').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('fs.adminKey'))).toBe(KEY);

    // Products: the API's validation error beside its field, then a product created and listed.
    await page.goto(`${t.url}/admin#products`);
    const productForm = page.locator('[data-testid="product-form"]');
    await productForm.waitFor();
    const sku = `CONSOLE-${Date.now()}`;
    await productForm.locator('[data-field="sku"]').fill(sku);
    await productForm.locator('[data-field="priceCents"]').fill('499.99');
    await productForm.locator('[data-field="stock"]').fill('40');
    await productForm.locator('[data-testid="product-form-submit"]').click();
    await expect.poll(() => productForm.locator('[data-error-for="name"]').textContent()).not.toBe('');
    await productForm.locator('[data-field="name"]').fill('Nimbus Headphones');
    await productForm.locator('[data-testid="product-form-submit"]').click();
    const productRow = page.locator('[data-testid="products"] tr', { hasText: sku });
    await productRow.waitFor();
    const productId = (await productRow.getAttribute('data-product-id'))!;
    await shot(page, 'console-products', false);

    // Sales: the schedule form; errors beside quantity and a nested admission field, then a sale.
    await page.goto(`${t.url}/admin#sales`);
    const form = page.locator('[data-testid="sale-form"]');
    await form.locator(`[data-field="productId"] option[value="${productId}"]`).waitFor({ state: 'attached' });
    await form.locator('[data-field="productId"]').selectOption(productId);
    await form.locator('[data-field="quantity"]').fill('1000');
    await form.locator('[data-field="priceCents"]').fill('299.99');
    await form.locator('[data-testid="sale-form-submit"]').click();
    await expect.poll(() => form.locator('[data-error-for="quantity"]').textContent()).toBe('only 40 units of the product are free for a new sale');
    expect(await form.locator('[data-field="quantity"]').getAttribute('aria-invalid')).toBe('true');
    await form.locator('[data-field="quantity"]').fill('12');
    await form.locator('[data-field="admission.intervalMs"]').fill('10');
    await form.locator('[data-testid="sale-form-submit"]').click();
    await expect.poll(() => form.locator('[data-error-for="admission.intervalMs"]').textContent()).toMatch(/50/);
    expect(await form.locator('[data-error-for="quantity"]').textContent()).toBe('');
    await shot(page, 'console-schedule-error', false);
    await form.locator('[data-field="admission.intervalMs"]').fill('1000');
    await form.locator('[data-field="admission.batchSize"]').fill('3');
    await form.locator('[data-field="holdSeconds"]').fill('60');
    await setLocalTime(page, 'startsAt', Date.now() + 8000);
    await form.locator('[data-testid="sale-form-submit"]').click();
    const note = page.locator('p.ok', { hasText: 'scheduled' });
    await note.waitFor();
    const saleId = /Sale #(\d+)/.exec((await note.textContent())!)![1];
    await page.locator(`[data-testid="sales"] tr[data-sale-id="${saleId}"]`).waitFor();

    // The live dashboard: the feed is live, the sale is scheduled, four charts are drawn.
    await note.locator('a').click();
    await page.waitForURL(`${t.url}/dashboard/sales/${saleId}`);
    await expect.poll(() => page.locator('[data-testid="feed"]').textContent()).toBe('● Live');
    expect(await page.locator('[data-testid="sale-status"]').textContent()).toBe('scheduled');
    expect(await page.locator('.uplot').count()).toBe(4);

    // Simulated shoppers: 20 for 12 units, 3 of them with a declined card first.
    const users = await makeUsers(t.ctx, 20);
    const buying = Promise.all(users.map((u, i) => shopper(saleId, u, i % 4 === 0)));
    await expect.poll(() => value(page, 'preQueue'), { timeout: 20_000 }).not.toBe('0');
    await expect.poll(() => page.locator('[data-testid="sale-status"]').textContent(), { timeout: 20_000 }).toBe('open');
    await expect.poll(async () => Number(await value(page, 'sold')), { timeout: 30_000 }).toBeGreaterThan(0);
    await shot(page, 'console-dashboard-during');
    const outcomes = await buying;
    expect(outcomes.filter((o) => o === 'paid')).toHaveLength(12);

    // Every unit sold, none oversold; Redis and Postgres agree; the funnel ends at 12 paid.
    await expect.poll(() => value(page, 'sold'), { timeout: 10_000 }).toBe('12');
    await expect.poll(() => value(page, 'drift'), { timeout: 10_000 }).toBe('0');
    expect(await value(page, 'oversell')).toBe('0');
    expect(await value(page, 'remaining')).toBe('0');
    expect(await value(page, 'declines')).toBe(String(declined));
    expect(await value(page, 'funnel-paid')).toBe('12');
    expect(await page.locator('[data-testid="integrity"]').textContent()).toBe('quantity 12 = remaining 0 + held 0 + sold 12');

    // Reconcile and close, each after a confirmation.
    await page.locator('[data-action="reconcile"]').click();
    await expect.poll(() => page.locator('[data-testid="action-note"]').textContent()).toMatch(/^Reconciled: everything matches/);
    await shot(page, 'console-dashboard');
    await page.locator('[data-action="close"]').click();
    await expect.poll(() => page.locator('[data-testid="sale-status"]').textContent(), { timeout: 10_000 }).toBe('closed');
  });

  it('the console socket refuses a wrong key and an unknown sale', async () => {
    const close = (saleId: string, key: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`${t.url.replace('http', 'ws')}/admin/ws/sales/${saleId}`);
        ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', key })));
        ws.on('close', (code) => resolve(code));
      });
    expect(await close('1', 'nope')).toBe(4401);
    expect(await close('999999999', KEY)).toBe(4404);
    expect(await close('not-an-id', KEY)).toBe(4404);
  });
});
