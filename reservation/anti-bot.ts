import type { Context } from '../infra/context.js';
import { AppError } from '../infra/errors.js';
import { saleKeys } from './keys.js';
import type { Sale } from './sales.js';

/**
 * A sale's anti-bot options (POST /admin/sales):
 *   accountsCreatedBefore  accounts created at or after this time may neither join the queue nor reserve
 *                          (403 account_too_new): throwaway accounts made for the sale do not count.
 *   maxAdmissionsPerIp     at most this many different shoppers from one client address get a place: in the
 *                          queue of a waiting-room sale (checked when joining), or a hold of a direct sale
 *                          (checked when reserving). Beyond it, 403 ip_limit_reached.
 * Both cost nothing for a sale that does not set them. An account's creation time never changes, so it is
 * cached per process after the first read.
 */
const createdAt = new Map<string, number>();
const CREATED_MAX = 200_000;

async function accountCreatedMs(ctx: Context, userId: string): Promise<number | null> {
  const known = createdAt.get(`${ctx.config.dbSchema}:${userId}`);
  if (known !== undefined) return known;
  const { rows } = await ctx.db.query('SELECT created_at FROM users WHERE id = $1', [userId]);
  if (rows.length === 0) return null;
  const ms = (rows[0].created_at as Date).getTime();
  if (createdAt.size >= CREATED_MAX) createdAt.clear();
  createdAt.set(`${ctx.config.dbSchema}:${userId}`, ms);
  return ms;
}

/** 403 account_too_new when the sale only takes accounts created before a time and this one is newer. */
export async function checkAccountAge(ctx: Context, sale: Sale, userId: string): Promise<void> {
  const cutoff = sale.accountsCreatedBefore;
  if (!cutoff) return;
  const created = await accountCreatedMs(ctx, userId);
  if (created === null || created >= cutoff.getTime()) {
    throw new AppError('account_too_new', `this sale is open to accounts created before ${cutoff.toISOString()}`);
  }
}

/**
 * Counts the shopper against their address's allowance in this sale (a Redis set of user ids per address,
 * kept until a day after the sale ends). The same shopper again is free. Two new shoppers racing for the
 * last place may both be refused; never more than the allowance get in.
 */
export async function takeAddressPlace(ctx: Context, sale: Sale, userId: string, ip: string): Promise<void> {
  const max = sale.maxAdmissionsPerIp;
  if (!max) return;
  const key = `${saleKeys(ctx.config.redisPrefix, sale.id).meta}:ip:${ip}`;
  const expireAt = Math.ceil(sale.endsAt.getTime() / 1000) + 24 * 3600;
  const replies = await ctx.redis.multi().sadd(key, userId).scard(key).expireat(key, expireAt).exec();
  const added = Number(replies?.[0]?.[1] ?? 0);
  const count = Number(replies?.[1]?.[1] ?? 0);
  if (added === 1 && count > max) {
    await ctx.redis.srem(key, userId);
    throw new AppError('ip_limit_reached', `at most ${max} shoppers from one address may take part in this sale`);
  }
}
