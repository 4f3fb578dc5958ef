import { requireAdmin } from '../infra/auth.js';
import type { Context } from '../infra/context.js';
import { notFound } from '../infra/errors.js';
import { parseId, type Request, type Route } from '../infra/http.js';
import { createSale, endSale, saleInput } from './lifecycle.js';
import { loadSale, saleReconciliation, saleStats, type Sale } from './sales.js';
import type { SaleScheduler } from './scheduler.js';

/** The sale id of the path, or a 404. */
function saleIdOf(req: Request): string {
  const id = parseId(req.params.id);
  if (!id) throw notFound('sale');
  return id;
}

function saleView(sale: Sale) {
  return {
    id: sale.id,
    productId: sale.productId,
    name: sale.name,
    status: sale.status,
    quantity: sale.quantity,
    priceCents: sale.priceCents,
    startsAt: sale.startsAt.toISOString(),
    endsAt: sale.endsAt.toISOString(),
    perUserLimit: sale.perUserLimit,
    holdSeconds: sale.holdSeconds,
    waitingRoom: sale.waitingRoom,
    admission: sale.admission,
    queueOpensAt: sale.queueOpensAt.toISOString(),
    powDifficulty: sale.powDifficulty,
    accountsCreatedBefore: sale.accountsCreatedBefore?.toISOString() ?? null,
    maxAdmissionsPerIp: sale.maxAdmissionsPerIp,
  };
}

/** Merchant API; every route needs `Authorization: Bearer <ADMIN_API_KEY>`. */
export function adminRoutes(ctx: Context, scheduler: SaleScheduler): Route[] {
  const detail = async (id: string) => {
    const sale = await loadSale(ctx, ctx.db, id);
    if (!sale) throw notFound('sale');
    const [stats, reconciliation] = await Promise.all([saleStats(ctx, id), saleReconciliation(ctx, id)]);
    if (sale.status === 'scheduled') stats.remaining = sale.quantity;
    return { ...saleView(sale), stats: { ...stats, ...(reconciliation === undefined ? {} : { reconciliation }) } };
  };
  const end = (to: 'closed' | 'cancelled') => async (req: Request) => {
    requireAdmin(ctx.config, req);
    const id = saleIdOf(req);
    const status = await endSale(ctx, id, to);
    if (!status) throw notFound('sale');
    return { status: 200, body: { id, status } };
  };
  return [
    {
      method: 'post',
      path: '/admin/sales',
      handler: async (req) => {
        requireAdmin(ctx.config, req);
        const sale = await createSale(ctx, saleInput.parse(req.body));
        await scheduler.schedule(sale);
        return { status: 201, body: saleView(sale) };
      },
    },
    {
      method: 'get',
      path: '/admin/sales/:id',
      handler: async (req) => {
        requireAdmin(ctx.config, req);
        return { status: 200, body: await detail(saleIdOf(req)) };
      },
    },
    { method: 'post', path: '/admin/sales/:id/close', handler: end('closed') },
    { method: 'post', path: '/admin/sales/:id/cancel', handler: end('cancelled') },
  ];
}

