import type { Context } from '../../infra/context.js';
import { deploymentId, pspKey } from '../../infra/deployment.js';
import type { Check } from './report.js';
import type { Journal } from './shopper.js';

/**
 * The invariants `npm run demo` checks once every shopper has an outcome:
 *  - no oversell: units sold (Redis) and units in paid orders (Postgres) are at most the sale's quantity,
 *    and quantity = remaining + held + sold;
 *  - every shopper was told an outcome (paid, declined, sold out, closed) or left on purpose;
 *  - paid orders = net PSP charges: the orders paid in Postgres, the shoppers told "paid", and the charges
 *    the PSP simulator holds for the checked-out reservations (succeeded, not refunded) are the same number;
 *  - Redis and Postgres reconciled: the engine's own reconciliation finds no mismatch.
 */
export interface CheckInput {
  ctx: Context;
  engineUrl: string;
  admin: (method: string, path: string, body?: unknown) => Promise<any>;
  pspUrl: string | undefined;
  saleId: string;
  quantity: number;
  journal: Journal;
  shoppers: number;
}

async function netCharges(pspUrl: string, keys: string[]): Promise<{ net: number; refunded: number; declined: number; missing: number }> {
  const out = { net: 0, refunded: 0, declined: 0, missing: 0 };
  for (let i = 0; i < keys.length; i += 50) {
    await Promise.all(
      keys.slice(i, i + 50).map(async (key) => {
        const res = await fetch(`${pspUrl}/v1/charges/by-key/${encodeURIComponent(key)}`);
        if (res.status === 404) return void out.missing++;
        const c = (await res.json()) as { status: string; refunded: boolean };
        if (c.status !== 'succeeded') out.declined++;
        else if (c.refunded) out.refunded++;
        else out.net++;
      }),
    );
  }
  return out;
}

export async function checkInvariants(input: CheckInput): Promise<Check[]> {
  const { ctx, admin, saleId, quantity, journal } = input;
  const checks: Check[] = [];
  // Let settlement finish what is in flight (nobody is paying once every shopper was told, but a hold
  // left to expire may still be outstanding).
  let stats = (await admin('GET', `/admin/sales/${saleId}`)).stats;
  const { rows } = await ctx.db.query<{ orders: number; units: number }>(
    `SELECT count(DISTINCT o.id)::int AS orders, COALESCE(sum(i.quantity), 0)::int AS units
     FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.sale_id = $1 AND o.status IN ('paid', 'shipped')`,
    [saleId],
  );
  const paid = rows[0]!;
  stats = (await admin('GET', `/admin/sales/${saleId}`)).stats;
  const balanced = stats.remaining + stats.held + stats.sold === quantity;
  checks.push({
    name: 'no oversell',
    ok: stats.sold <= quantity && paid.units <= quantity && stats.remaining >= 0 && balanced,
    detail: `${quantity} units: sold ${stats.sold} (Redis), ${paid.units} in paid orders (Postgres); remaining ${stats.remaining} + held ${stats.held} + sold ${stats.sold} = ${stats.remaining + stats.held + stats.sold}`,
  });

  const notTold = [...journal.outcomes.values()].filter((o) => o === 'not_told').length;
  const missing = input.shoppers - journal.outcomes.size;
  checks.push({
    name: 'every shopper told their outcome',
    ok: notTold === 0 && missing === 0,
    detail: `${journal.outcomes.size - notTold} of ${input.shoppers} shoppers were told paid, declined, sold out or closed, or left on purpose; ${notTold + missing} were not`,
  });

  if (input.pspUrl) {
    const deployment = await deploymentId(ctx.db, ctx.config);
    const psp = await netCharges(input.pspUrl, journal.checkedOut.map((rid) => pspKey(deployment, rid)));
    checks.push({
      name: 'paid orders = net PSP charges',
      ok: psp.net === paid.orders && journal.paid === paid.orders && psp.missing === 0,
      detail: `${paid.orders} paid orders in Postgres, ${journal.paid} shoppers told "paid", ${psp.net} net charges at the PSP for the ${journal.checkedOut.length} checkouts (${psp.declined} declined, ${psp.refunded} refunded, ${psp.missing} never charged)`,
    });
  } else {
    checks.push({ name: 'paid orders = net PSP charges', ok: false, detail: 'the PSP the engine uses is unknown (set PSP_URL)' });
  }

  const recon = await admin('POST', `/admin/sales/${saleId}/reconcile`);
  checks.push({
    name: 'Redis and Postgres reconciled',
    ok: recon.ok === true,
    detail: recon.ok
      ? `the engine's reconciliation: Redis sold ${recon.redis.sold} = ${recon.postgres.paidUnits} paid units in Postgres, quantity = remaining + held + sold${recon.repaired.length ? `; it repaired ${recon.repaired.length}` : ', nothing to repair'}`
      : `mismatches: ${recon.mismatches.join('; ')}`,
  });
  return checks;
}
