import type { Context } from '../infra/context.js';
import { queueKeys } from './keys.js';

/**
 * A sale's waiting-room figures for the merchant console, from Redis: places saved before the start
 * (`preQueue`, shuffled into tickets at the start, plus late joiners still being ticketed), shoppers
 * waiting with a ticket, admitted and not yet reserved, the serving position, tickets handed out and
 * admitted so far, the measured admission rate (places per second; null before any tick measured one) and
 * the estimated wait of a shopper joining the back of the line now (seconds; null while nothing moves).
 */
export async function queueFigures(ctx: Context, saleId: string) {
  const k = queueKeys(ctx.config.redisPrefix, saleId);
  const [[next, serving, rate, admitted], pre, late, waiting, admittedNow] = await Promise.all([
    ctx.redis.hmget(k.state, 'next', 'serving', 'rate', 'admitted'),
    ctx.redis.zcard(k.pre),
    ctx.redis.zcard(k.late),
    ctx.redis.zcard(k.line),
    ctx.redis.zcard(k.admitted),
  ]);
  const tickets = Number(next ?? 0);
  const servingAt = Number(serving ?? 0);
  const perSecond = rate === null || Number(rate) < 0 ? null : Number(rate) / 1000;
  const behind = Math.max(0, tickets - servingAt) + pre + late;
  return {
    preQueue: pre + late,
    waiting,
    admittedNotBought: admittedNow,
    serving: servingAt,
    queued: tickets + pre + late,
    admitted: Number(admitted ?? 0),
    admissionRate: perSecond,
    etaBackSeconds: perSecond && perSecond > 0 ? Math.ceil(behind / perSecond) : null,
  };
}
