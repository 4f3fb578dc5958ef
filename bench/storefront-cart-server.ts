/**
 * One server for `bench/storefront-cart.ts`, in its own process so the load generator does not share its
 * event loop. Mode (argv[2]):
 *   bare    a uWS endpoint that answers a small JSON at once (the ceiling of this box)
 *   engine  the real gateway (every part's routes) with the cart part's background work: the write-behind
 *           flush to Postgres runs during the load, as in production; other parts' workers stay off
 * Prints {"port":N} on stdout once listening; SIGTERM flushes and exits.
 */
import { loadConfig } from '../infra/config.js';
import { createContext } from '../infra/context.js';
import { listen } from '../gateway/app.js';
import { startEngine } from '../gateway/server.js';
import uws from '../infra/uws.js';
import { cartPart } from '../storefront/cart-part.js';
import { cartBatchStats } from '../storefront/cart/batch.js';

const mode = process.argv[2];
const config = loadConfig({ ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'error' });

if (mode === 'bare') {
  const app = uws.App();
  app.any('/*', (res) => {
    res.writeStatus('200 OK').writeHeader('content-type', 'application/json').end('{"items":[],"itemCount":0,"totalCents":0}');
  });
  console.log(JSON.stringify({ port: (await listen(app, '127.0.0.1', 0)).port }));
  process.on('SIGTERM', () => process.exit(0));
} else {
  const ctx = createContext(config);
  const engine = await startEngine(ctx, { host: '127.0.0.1', port: 0, background: false });
  const stopCarts = await cartPart(ctx).start!();
  console.log(JSON.stringify({ port: engine.port }));
  process.on('SIGTERM', async () => {
    const { calls, changes } = cartBatchStats;
    console.error(`cart changes ${changes} in ${calls} script calls (${(changes / Math.max(1, calls)).toFixed(1)} per call)`);
    await engine.stop();
    await stopCarts(); // the last write-behind flush
    await ctx.close();
    process.exit(0);
  });
}
