import type { Route } from './http.js';
import type { ApiDocs } from './openapi.js';
import type { TemplatedApp } from './uws.js';

/** Extra things a part can hang on the app (WebSocket behaviours). */
export type Mount = (app: TemplatedApp) => void;

/** A shopper page: an HTML shell at `path` that loads the bundle of ui/pages/<script>.ts. */
export interface Page {
  /** uWS route pattern, e.g. `/sales/:id`. */
  path: string;
  /** Bundle name: ui/pages/<script>.ts */
  script: string;
  title: string;
}

/** Runs after a successful login or register, with the request headers (the storefront merges an anonymous cart). */
export type AuthHook = (userId: string, headers: Record<string, string>) => Promise<void>;

/**
 * One part of the engine as the gateway sees it: HTTP routes, extra mounts (WebSocket behaviours), shopper
 * pages, hooks after login/register, and background work started with the engine (workers, sweepers,
 * tickers). Each part's `index.ts` builds its own; gateway/server.ts only lists them.
 */
export interface Part {
  name: string;
  routes?: Route[];
  /** The API description of the part's routes (its api.ts), for GET /openapi.json. */
  api?: ApiDocs;
  mounts?: Mount[];
  pages?: Page[];
  afterAuth?: AuthHook[];
  /** Starts background work; resolves to its stop function. */
  start?: () => Promise<() => Promise<void>>;
}
