import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';

/** Debian chromium through playwright-core, with the flags this machine needs; screenshots in test/artifacts/. */
export const CHROMIUM = '/usr/bin/chromium';
export const artifacts = fileURLToPath(new URL('./artifacts/', import.meta.url));
export const phone = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
export const desktop = { viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 };

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A new page in its own context; page errors and refused CSP fail loudly in the log. */
export async function openPage(browser: Browser, contexts: BrowserContext[], opts: object = phone): Promise<Page> {
  const context = await browser.newContext(opts);
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error('page error:', err));
  return page;
}

export async function shot(page: Page, name: string, fullPage = true): Promise<void> {
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage });
}

/** Signs a new shopper up on the queue page's own form. */
export async function signUpOnQueuePage(page: Page, email: string): Promise<void> {
  await page.locator('.q-signin input[name=email]').fill(email);
  await page.locator('.q-signin input[name=password]').fill('correct horse battery');
  await page.locator('.q-register').click();
  await page.locator('.q-signin').waitFor({ state: 'hidden' });
}

export const phase = (page: Page, name: string, timeout = 30_000) => page.locator(`.q-status[data-phase="${name}"]`).waitFor({ timeout });
