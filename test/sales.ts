import type { Context } from '../infra/context.js';
import { issueUserToken } from '../infra/auth.js';
import type { TestEngine } from './engine.js';

/** Test helpers for the reservation part (not a test file itself). */

/** Creates `n` users with one INSERT and returns their ids and tokens (no scrypt: tests need many). */
export async function makeUsers(ctx: Context, n: number, tag = Math.random().toString(36).slice(2)): Promise<Array<{ id: string; token: string }>> {
  const { rows } = await ctx.db.query(
    `INSERT INTO users (email, password_hash) SELECT 'u' || g || '-' || $2 || '@example.com', 'none' FROM generate_series(1, $1) g RETURNING id`,
    [n, tag],
  );
  return rows.map((r) => ({ id: String(r.id), token: issueUserToken(ctx.config, String(r.id)) }));
}

/** Polls until `check` returns a value (not a timing assertion: it only bounds how long a test hangs). */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface SaleOptions {
  stock?: number;
  quantity?: number;
  perUserLimit?: number;
  holdSeconds?: number;
  startsInMs?: number;
  endsInMs?: number;
  waitingRoom?: boolean;
  priceCents?: number;
}

/** Creates a product and a sale through the admin API; waits for it to open when it starts now. */
export async function makeSale(t: TestEngine, o: SaleOptions = {}): Promise<{ productId: string; saleId: string }> {
  const admin = t.config.adminApiKey;
  const sku = `sku-${Math.random().toString(36).slice(2)}`;
  const product = await t.api('POST', '/admin/products', { token: admin, body: { sku, name: 'Phone', priceCents: 49_900, stock: o.stock ?? o.quantity ?? 100 } });
  if (product.status !== 201) throw new Error(`product: ${JSON.stringify(product.body)}`);
  const now = Date.now();
  const sale = await t.api('POST', '/admin/sales', {
    token: admin,
    body: {
      productId: product.body.id,
      quantity: o.quantity ?? 100,
      priceCents: o.priceCents ?? 19_900,
      startsAt: new Date(now + (o.startsInMs ?? 0)).toISOString(),
      endsAt: new Date(now + (o.endsInMs ?? 3_600_000)).toISOString(),
      perUserLimit: o.perUserLimit ?? 2,
      holdSeconds: o.holdSeconds ?? 300,
      waitingRoom: o.waitingRoom ?? false,
    },
  });
  if (sale.status !== 201) throw new Error(`sale: ${JSON.stringify(sale.body)}`);
  const saleId: string = sale.body.id;
  if (!o.startsInMs) {
    await eventually(async () => (await t.api('GET', `/admin/sales/${saleId}`, { token: admin })).body.status === 'open', 'the sale to open');
  }
  return { productId: product.body.id, saleId };
}
