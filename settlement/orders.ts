import type { Context } from '../infra/context.js';
import { AppError, invalid, notFound } from '../infra/errors.js';
import { pendingOrdersKey } from './keys.js';
import { orderStatus, type OrderStatus } from './order-status.js';
import type { PendingOrder } from './checkout.js';

/** What a shopper sees of an order (flash or regular: they share the orders table). */
export interface OrderView {
  id: string;
  status: OrderStatus;
  totalCents: number;
  items: Array<{ productId: string; quantity: number; unitPriceCents: number }>;
  createdAt: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const SELECT_ORDERS = `
SELECT o.id, o.status, o.total_cents, o.created_at,
       COALESCE((SELECT json_agg(json_build_object('productId', i.product_id, 'quantity', i.quantity,
                                                   'unitPriceCents', i.unit_price_cents) ORDER BY i.product_id)
                 FROM order_items i WHERE i.order_id = o.id), '[]') AS items
FROM orders o`;

interface OrderRecord {
  id: string;
  status: OrderStatus;
  total_cents: number;
  created_at: Date;
  items: OrderView['items'];
}

const toView = (r: OrderRecord): OrderView => ({
  id: r.id,
  status: r.status,
  totalCents: r.total_cents,
  items: r.items.map((i) => ({ productId: String(i.productId), quantity: i.quantity, unitPriceCents: i.unitPriceCents })),
  createdAt: r.created_at.toISOString(),
});

async function pendingOrders(ctx: Context, userId: string): Promise<Map<string, PendingOrder>> {
  const raw = await ctx.redis.hgetall(pendingOrdersKey(ctx.config.redisPrefix, userId));
  return new Map(Object.entries(raw).map(([id, json]) => [id, JSON.parse(json) as PendingOrder]));
}

/** The caller's order (404 for anyone else's). A flash order whose payment is in flight is `pending`. */
export async function getOrder(ctx: Context, userId: string, orderId: string): Promise<OrderView> {
  if (!UUID.test(orderId)) throw notFound('order');
  const { rows } = await ctx.db.query<OrderRecord>(`${SELECT_ORDERS} WHERE o.id = $1 AND o.user_id = $2`, [orderId, userId]);
  if (rows[0]) return toView(rows[0]);
  const pending = await ctx.redis.hget(pendingOrdersKey(ctx.config.redisPrefix, userId), orderId);
  if (pending) return JSON.parse(pending) as PendingOrder;
  throw notFound('order');
}

export interface OrderPage {
  orders: OrderView[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

function encodeCursor(o: OrderView): string {
  return Buffer.from(`${o.createdAt}|${o.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  const [createdAt, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!createdAt || !id || !UUID.test(id) || Number.isNaN(Date.parse(createdAt))) throw invalid('cursor', 'is not a cursor from this API');
  return { createdAt, id };
}

/**
 * The caller's orders, newest first, keyset-paginated on (created_at, id). The first page also shows
 * orders still pending (their rows are written when payment settles).
 */
export async function listOrders(ctx: Context, userId: string, opts: { cursor?: string; limit?: number } = {}): Promise<OrderPage> {
  const limit = opts.limit ?? 20;
  const after = opts.cursor ? decodeCursor(opts.cursor) : null;
  const { rows } = await ctx.db.query<OrderRecord>(
    `${SELECT_ORDERS} WHERE o.user_id = $1 ${after ? 'AND (o.created_at, o.id) < ($3::timestamptz, $4::uuid)' : ''}
     ORDER BY o.created_at DESC, o.id DESC LIMIT $2`,
    after ? [userId, limit + 1, after.createdAt, after.id] : [userId, limit + 1],
  );
  const page = rows.slice(0, limit).map(toView);
  const nextCursor = rows.length > limit ? encodeCursor(page[page.length - 1]) : null;
  if (after) return { orders: page, nextCursor };
  const pending = await pendingOrders(ctx, userId);
  if (pending.size === 0) return { orders: page, nextCursor };
  // Drop entries whose row already exists (left behind if a worker died between writing and notifying).
  const written = await ctx.db.query<{ id: string }>('SELECT id FROM orders WHERE id = ANY($1::uuid[])', [[...pending.keys()]]);
  for (const { id } of written.rows) pending.delete(id);
  const inFlight = [...pending.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return { orders: [...inFlight, ...page], nextCursor };
}

/** paid -> shipped (a merchant action), only along the state machine. */
export async function shipOrder(ctx: Context, orderId: string): Promise<OrderView> {
  if (!UUID.test(orderId)) throw notFound('order');
  const { rows } = await ctx.db.query<{ user_id: number }>(
    `UPDATE orders SET status = $3, updated_at = now() WHERE id = $1 AND status = ANY($2) RETURNING user_id`,
    [orderId, orderStatus.from('shipped'), 'shipped'],
  );
  if (rows[0]) return getOrder(ctx, String(rows[0].user_id), orderId);
  const cur = await ctx.db.query<{ status: OrderStatus }>('SELECT status FROM orders WHERE id = $1', [orderId]);
  if (!cur.rows[0]) throw notFound('order');
  throw new AppError('invalid_state', `a ${cur.rows[0].status} order cannot be shipped`);
}
