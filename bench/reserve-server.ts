/**
 * One server for `bench/reserve.ts`, in its own process so the load generator does not share its event loop.
 * Mode (argv[2]):
 *   bare         a uWS endpoint that answers at once (the ceiling)
 *   pg-lock      reservation by SELECT ... FOR UPDATE in a transaction (the seed's pessimistic strategy)
 *   pg-version   reservation by a conditional UPDATE ... WHERE quantity >= n AND version = v (optimistic)
 *   lua          the real gateway and reservation route (token verify, zod, Lua), background work off
 * The Postgres modes run behind the same HTTP helper, token check and zod schema as the Lua path, so only
 * the storage differs. Prints {"port":N} on stdout once listening.
 */
import { z } from 'zod';
import { loadConfig } from '../infra/config.js';
import { createContext } from '../infra/context.js';
import { inTransaction } from '../infra/db.js';
import { AppError } from '../infra/errors.js';
import { createGateway, listen } from '../gateway/app.js';
import { requireUser } from '../infra/auth.js';
import { startEngine } from '../gateway/server.js';
import uws from '../infra/uws.js';
import type { Route } from '../infra/http.js';

const mode = process.argv[2];
const body = z.object({ quantity: z.number().int().min(1).max(10) });
const config = loadConfig({ ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'error' });

async function main(): Promise<number> {
  if (mode === 'bare') {
    const app = uws.App();
    app.any('/*', (res) => {
      res.writeStatus('201 Created').writeHeader('content-type', 'application/json').end('{}');
    });
    return (await listen(app, '127.0.0.1', 0)).port;
  }
  const ctx = createContext(config);
  if (mode === 'lua') return (await startEngine(ctx, { host: '127.0.0.1', port: 0, background: false })).port;
  const product = Number(process.env.BENCH_PRODUCT);
  const lock: Route['handler'] = async (req) => {
    const userId = requireUser(ctx, req);
    const { quantity } = body.parse(req.body);
    const id = await inTransaction(ctx.db, async (c) => {
      const { rows } = await c.query('SELECT quantity FROM bench_inventory WHERE product_id = $1 FOR UPDATE', [product]);
      if (rows[0].quantity < quantity) return null;
      await c.query('UPDATE bench_inventory SET quantity = quantity - $2, version = version + 1 WHERE product_id = $1', [product, quantity]);
      const ins = await c.query('INSERT INTO bench_holds (user_id, product_id, quantity) VALUES ($1, $2, $3) RETURNING id', [userId, product, quantity]);
      return ins.rows[0].id;
    });
    if (id === null) throw new AppError('sold_out', 'not enough units left');
    return { status: 201, body: { reservationId: String(id), quantity } };
  };
  const optimistic: Route['handler'] = async (req) => {
    const userId = requireUser(ctx, req);
    const { quantity } = body.parse(req.body);
    for (let attempt = 0; attempt < 5; attempt++) {
      const { rows } = await ctx.db.query('SELECT quantity, version FROM bench_inventory WHERE product_id = $1', [product]);
      if (rows[0].quantity < quantity) throw new AppError('sold_out', 'not enough units left');
      const ins = await ctx.db.query(
        `WITH taken AS (
           UPDATE bench_inventory SET quantity = quantity - $2, version = version + 1
           WHERE product_id = $1 AND quantity >= $2 AND version = $3 RETURNING product_id)
         INSERT INTO bench_holds (user_id, product_id, quantity) SELECT $4, product_id, $2 FROM taken RETURNING id`,
        [product, quantity, rows[0].version, userId],
      );
      if (ins.rows.length) return { status: 201, body: { reservationId: String(ins.rows[0].id), quantity } };
    }
    throw new AppError('conflict', 'too much contention, try again');
  };
  const handler = mode === 'pg-lock' ? lock : mode === 'pg-version' ? optimistic : undefined;
  if (!handler) throw new Error(`unknown mode ${mode}`);
  const app = createGateway(ctx, [{ method: 'post', path: '/api/sales/:id/reservations', handler }]);
  return (await listen(app, '127.0.0.1', 0)).port;
}

main().then(
  (port) => process.stdout.write(JSON.stringify({ port }) + '\n'),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
process.on('SIGTERM', () => process.exit(0));
