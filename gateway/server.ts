import type { Context } from '../infra/context.js';
import { buildUi, uiRoutes, type Page } from '../ui/build.js';
import { createGateway, listen, type Gateway, type Mount } from './app.js';
import { ConsoleFeed, type Figures } from './console.js';
import type { Route } from './http.js';
import { authRoutes, type AuthHook } from './routes/auth.js';
import { reservationPart } from '../reservation/index.js';
import { waitingRoomPart } from '../waiting-room/index.js';
import { cartPart } from '../storefront/cart-part.js';
import { catalogPart } from '../storefront/catalog-part.js';
import { settlementPart } from '../settlement/index.js';

/**
 * One part of the engine as the gateway sees it: HTTP routes, extra mounts (WebSocket behaviours), shopper
 * pages, hooks after login/register, and background work started with the engine (workers, sweepers,
 * tickers). Each part's folder builds its own; this file only lists them.
 */
export interface Part {
  name: string;
  routes?: Route[];
  mounts?: Mount[];
  pages?: Page[];
  afterAuth?: AuthHook[];
  /** The part's live figures of a sale for the merchant console (gateway/console.ts); null: no such sale. */
  figures?: Figures;
  /** Starts background work; resolves to its stop function. */
  start?: () => Promise<() => Promise<void>>;
}

export interface EngineOptions {
  host?: string;
  port?: number;
  /** Run background work (workers, sweeper, tickers) in this process. Default true. */
  background?: boolean;
}

export interface Engine {
  gateway: Gateway;
  port: number;
  stop: () => Promise<void>;
}

/** Every part of the engine, in the order their routes are registered. */
export async function buildParts(ctx: Context): Promise<Part[]> {
  return [reservationPart(ctx), waitingRoomPart(ctx), catalogPart(ctx), cartPart(ctx), settlementPart(ctx)];
}

export async function startEngine(ctx: Context, opts: EngineOptions = {}): Promise<Engine> {
  const parts = await buildParts(ctx);
  const assets = await buildUi();
  const routes: Route[] = [
    ...authRoutes(ctx, parts.flatMap((p) => p.afterAuth ?? [])),
    ...parts.flatMap((p) => p.routes ?? []),
    ...uiRoutes(assets, parts.flatMap((p) => p.pages ?? [])),
  ];
  const feed = new ConsoleFeed(ctx, parts.flatMap((p) => (p.figures ? [p.figures] : [])));
  const app = createGateway(ctx, routes, [...parts.flatMap((p) => p.mounts ?? []), feed.mount()]);
  const gateway = await listen(app, opts.host ?? ctx.config.host, opts.port ?? ctx.config.port);
  const stops: Array<() => Promise<void>> = [];
  if (opts.background !== false) {
    for (const part of parts) if (part.start) stops.push(await part.start());
  }
  let stopped = false;
  return {
    gateway,
    port: gateway.port,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      gateway.close();
      feed.stop();
      for (const stop of stops.reverse()) await stop().catch((err) => ctx.log.warn({ err }, 'stop failed'));
    },
  };
}
