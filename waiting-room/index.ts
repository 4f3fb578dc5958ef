import type { Context } from '../infra/context.js';
import type { Part } from '../infra/part.js';
import { publish } from '../infra/redis.js';
import { waitingRoomRoutes } from './routes.js';
import { Hub } from './hub.js';
import { channels } from './keys.js';
import { startTicker } from './ticker.js';
import { queueFigures } from './figures.js';
import { sampleQueues, websocketConnections } from './metrics.js';
import { mountQueueSocket } from './ws.js';
import { waitingRoomApi } from './api.js';

/**
 * The waiting room: a live WebSocket queue in front of waiting-room sales, with fair, inventory-aware batch
 * admission that behaves as one across gateway processes (see docs/waiting-room.md).
 * Gateway duties (sockets, pub/sub, heartbeat) run wherever the gateway runs; the admission ticker is
 * background work (one lease holder does the ticks).
 */
export function waitingRoomPart(ctx: Context): Part {
  const hub = new Hub(ctx);
  let started: Promise<void> | undefined;
  const unsample = [websocketConnections.add(() => [[{}, hub.connectionCount]]), sampleQueues(ctx)];
  ctx.onClose(async () => {
    for (const stop of unsample) stop();
    await started?.catch(() => {});
    await hub.stop();
  });
  return {
    name: 'waiting-room',
    routes: waitingRoomRoutes(ctx),
    api: waitingRoomApi,
    mounts: [
      (app) => {
        mountQueueSocket(ctx, hub, app);
        started = hub.start();
        started.catch((err) => ctx.log.error({ err }, 'waiting-room subscriber failed to start'));
      },
    ],
    pages: [{ path: '/sales/:id', script: 'queue', title: 'Flash sale' }],
    figures: (saleId) => queueFigures(ctx, saleId),
    start: async () => {
      await started;
      return startTicker(ctx);
    },
  };
}

/**
 * Sends a message to a shopper's waiting-room sockets on whichever gateway holds them (for example
 * settlement's {"type":"order","orderId","status"}). Fire and forget: nobody connected, nobody told.
 */
export async function notifyUser(ctx: Context, userId: string, message: Record<string, unknown>): Promise<void> {
  await publish(ctx.redis, channels(ctx.config.redisPrefix).user, JSON.stringify({ userId: String(userId), message }));
}

export { checkPow, solvePow } from './pow.js';
export { joinQueue, type Place } from './queue.js';
export { queueKeys, queueSalesKey } from './keys.js';
export { MAX_REFRESH_MS, tierLayout, type TierLayout } from './tiers.js';
