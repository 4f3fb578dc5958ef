import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { makeSale, makeUsers } from '../sales.js';
import { safeNext } from '../../ui/lib/next.js';
import { startTestEngine, type TestEngine } from '../engine.js';

const CHROMIUM = '/usr/bin/chromium';
let t: TestEngine;
beforeAll(async () => {
  t = await startTestEngine();
});
afterAll(() => t?.cleanup());

const PAGES = ['/', '/products/1', '/cart', '/checkout', '/orders', '/login', '/register', '/sales/1'];

describe('security headers', () => {
  it('every page: CSP without inline script, nosniff, frame-ancestors none + X-Frame-Options DENY, Referrer-Policy', async () => {
    for (const path of PAGES) {
      const res = await fetch(t.url + path);
      expect(res.status, path).toBe(200);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toMatch(/script-src 'self'(;|$)/);
      expect(csp).toMatch(/default-src 'self'/);
      expect(csp).toMatch(/frame-ancestors 'none'/);
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      const html = await res.text();
      expect(html, path).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // every script is a file
      expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    }
  });

  it('API answers: nosniff everywhere; Cache-Control no-store on authenticated ones', async () => {
    const [u] = await makeUsers(t.ctx, 1);
    const authed = await t.api('GET', '/api/orders', { token: u.token });
    expect(authed.status).toBe(200);
    expect(authed.headers.get('cache-control')).toBe('no-store');
    expect(authed.headers.get('x-content-type-options')).toBe('nosniff');
    const denied = await t.api('GET', '/api/orders', { token: 'nope' });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('cache-control')).toBe('no-store');
    const cart = await t.api('GET', '/api/cart', { token: u.token });
    expect(cart.headers.get('cache-control')).toBe('no-store');
    const admin = await t.api('GET', '/admin/products/1', { token: t.config.adminApiKey });
    expect(admin.headers.get('cache-control')).toBe('no-store');
    const open = await t.api('GET', '/api/products/search?q=x');
    expect(open.headers.get('x-content-type-options')).toBe('nosniff');
    const missing = await t.api('GET', '/nowhere');
    expect(missing.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('the sign-in redirect', () => {
  const origin = 'https://shop.example';
  it('next is parsed against the page origin: only same-origin paths pass', () => {
    expect(safeNext('/orders?page=2#x', origin)).toBe('/orders?page=2#x');
    expect(safeNext('/sales/5', origin)).toBe('/sales/5');
    for (const evil of ['/\\evil.example/x', '/\t/evil.example/x', '//evil.example/x', '\\\\evil.example', 'https://evil.example/', 'javascript:alert(1)', ' //evil.example', '/\\/evil.example', 'data:text/html,x', 'http://shop.example/x']) {
      expect(safeNext(evil, origin), JSON.stringify(evil)).toBe('/');
    }
    expect(safeNext('https:evil.example', origin)).toBe('/evil.example'); // a path of this site, as the browser reads it
    expect(safeNext(null, origin)).toBe('/');
  });
});

describe.skipIf(!existsSync(CHROMIUM))('pages in chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(() => browser?.close());

  it('/login?next=/\\evil.example/x (and /<TAB>/...) stays on the site after signing in', async () => {
    const email = 'redirect@example.com';
    const password = 'a long enough pass';
    expect((await t.api('POST', '/api/auth/register', { body: { email, password } })).status).toBe(201);
    for (const next of ['/\\evil.example/x', '/\t/evil.example/x']) {
      const page = await browser.newPage();
      const violations: string[] = [];
      page.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
      });
      await page.goto(`${t.url}/login?next=${encodeURIComponent(next)}`);
      await page.getByTestId('email').fill(email);
      await page.getByTestId('password').fill(password);
      await page.getByTestId('auth-submit').click();
      await page.waitForURL((u) => u.pathname === '/' || !u.href.startsWith(`${t.url}/login`), { timeout: 10_000 });
      expect(new URL(page.url()).origin).toBe(t.url);
      expect(new URL(page.url()).pathname).toBe('/');
      expect(violations).toEqual([]);
      await page.close();
    }
  });

  it('pages run under the CSP without violations (the queue page opens its WebSocket) and refuse to be framed', async () => {
    const { saleId } = await makeSale(t, { waitingRoom: true });
    const page = await browser.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
    });
    const [u] = await makeUsers(t.ctx, 1);
    await page.goto(`${t.url}/login`);
    await page.evaluate((token) => localStorage.setItem('fs.token', token), u.token);
    for (const path of ['/', '/cart', '/orders', `/sales/${saleId}`]) {
      await page.goto(t.url + path);
      await page.waitForLoadState('networkidle').catch(() => {});
    }
    expect(violations).toEqual([]);
    // Another origin (127.0.0.1 vs localhost) framing the queue page: the frame stays empty.
    const framer = await browser.newPage();
    const blocked: string[] = [];
    framer.on('console', (m) => blocked.push(m.text()));
    await framer.goto(`${t.url}/nowhere`);
    await framer.setContent(`<iframe id="f" src="${t.url.replace('127.0.0.1', 'localhost')}/sales/${saleId}"></iframe>`);
    await framer.waitForTimeout(1000);
    const frame = framer.frames().find((f) => f !== framer.mainFrame());
    const content = frame ? await frame.content().catch(() => '') : '';
    expect(content).not.toMatch(/assets\/queue\.js/);
    await framer.close();
    await page.close();
  });
});
