import type { Context } from '../infra/context.js';
import type { Route } from '../infra/http.js';
import type { ApiDocs } from '../infra/openapi.js';
import type { Part } from '../infra/part.js';
import { reservationPart } from '../reservation/index.js';
import { settlementPart } from '../settlement/index.js';
import { cartPart, catalogPart, changePassword, loginUser, registerUser, userEmail } from '../storefront/index.js';
import { buildUi, uiRoutes } from '../ui/build.js';
import { waitingRoomPart } from '../waiting-room/index.js';
import { createGateway, listen, type Gateway } from './app.js';
import { authRoutes } from './auth.js';
import { gatewayApi } from './openapi.js';

/**
 * The engine: the parts, listed here and in no other gateway file, behind one uWS gateway. Parts import
 * infra/ and each other's index.ts, never gateway/ (test/architecture.test.ts checks it).
 */
export interface EngineOptions {
  host?: string;
  port?: number;
  /** Run background work (workers, sweeper, tickers) in this process. Default true. */
  background?: boolean;
}

export interface Engine {
  gateway: Gateway;
  port: number;
  /** The parts' routes and their API docs (the contract test checks every API route has one). */
  routes: Route[];
  api: ApiDocs;
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
    ...authRoutes(ctx, { register: registerUser, login: loginUser, changePassword, email: userEmail }, parts.flatMap((p) => p.afterAuth ?? [])),
    ...parts.flatMap((p) => p.routes ?? []),
    ...uiRoutes(assets, parts.flatMap((p) => p.pages ?? [])),
  ];
  const stopSessions = await ctx.sessions.start(); // before the first request: revoked tokens are known
  const api: ApiDocs = Object.assign({}, gatewayApi, ...parts.map((p) => p.api ?? {}));
  const app = createGateway(ctx, routes, parts.flatMap((p) => p.mounts ?? []), api);
  const gateway = await listen(app, opts.host ?? ctx.config.host, opts.port ?? ctx.config.port);
  const stops: Array<() => Promise<void>> = [];
  if (opts.background !== false) {
    for (const part of parts) if (part.start) stops.push(await part.start());
  }
  let stopped = false;
  return {
    gateway,
    port: gateway.port,
    routes,
    api,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      gateway.close();
      for (const stop of stops.reverse()) await stop().catch((err) => ctx.log.warn({ err }, 'stop failed'));
      await stopSessions();
    },
  };
}
