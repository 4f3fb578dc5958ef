import { createRequire } from 'node:module';
import type * as UWS from 'uWebSockets.js';

/**
 * Loads uWebSockets.js and refuses to run on its pure-JS fallback. The npm package we use
 * (@trufflesuite/uws-js-unofficial, aliased as uWebSockets.js) silently falls back to a slow shim when
 * its native binary does not load; a native binding's functions print as `[native code]`.
 */
const require = createRequire(import.meta.url);
const uws = require('uWebSockets.js') as typeof UWS;

export function isNativeUws(mod: { App: unknown }): boolean {
  return typeof mod.App === 'function' && Function.prototype.toString.call(mod.App).includes('[native code]');
}

if (!isNativeUws(uws)) {
  throw new Error(
    `uWebSockets.js native binding did not load (Node ${process.version}, ABI ${process.versions.modules}, ` +
      `${process.platform}-${process.arch}); refusing to run on the slow JS fallback. Use Node 16-20 on glibc.`,
  );
}

export default uws;
export type { HttpRequest, HttpResponse, TemplatedApp, WebSocket, us_listen_socket } from 'uWebSockets.js';
