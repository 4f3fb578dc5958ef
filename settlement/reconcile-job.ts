import { Queue, Worker } from 'bullmq';
import type { Context } from '../infra/context.js';
import { subscribe, unsubscribe } from '../infra/redis.js';
import { saleStatusChannel } from '../reservation/index.js';
import { RECONCILE_QUEUE } from './keys.js';
import { reconcileSale, salesToReconcile, type ReconcileDeps } from './reconcile.js';

type ReconcileJob = { saleId?: string };

/**
 * Reconciliation as BullMQ work, so one process runs it however many run the engine: a job scheduler
 * repeats it every `reconcileIntervalMs` over every open or recently closed sale, and a sale that closes
 * (its status published on the sale status channel) is checked at once.
 */
export async function startReconciliation(deps: ReconcileDeps): Promise<() => Promise<void>> {
  const { ctx } = deps;
  const queue = new Queue<ReconcileJob>(RECONCILE_QUEUE, { connection: ctx.bull.connection, prefix: ctx.bull.prefixFor(RECONCILE_QUEUE) });
  await queue.upsertJobScheduler('all-sales', { every: ctx.config.reconcileIntervalMs }, { name: 'all', opts: { removeOnComplete: 100, removeOnFail: 100 } });
  const worker = new Worker<ReconcileJob>(
    RECONCILE_QUEUE,
    async (job) => {
      const ids = job.data.saleId ? [job.data.saleId] : await salesToReconcile(ctx);
      let mismatched = 0;
      for (const saleId of ids) if (!(await reconcileSale(deps, saleId)).ok) mismatched++;
      return { sales: ids.length, mismatched };
    },
    { connection: ctx.newRedis('queue'), prefix: ctx.bull.prefixFor(RECONCILE_QUEUE), concurrency: 1 },
  );
  worker.on('error', (err) => ctx.log.error({ err }, 'reconciliation worker error'));
  worker.on('failed', (job, err) => ctx.log.error({ err, saleId: job?.data.saleId }, 'reconciliation run failed'));

  const sub = ctx.newRedis('subscriber');
  const channel = saleStatusChannel(ctx.config.redisPrefix);
  await subscribe(sub, [channel], (_ch: string, message: string) => {
    let event: { saleId?: string | number; status?: string };
    try {
      event = JSON.parse(message);
    } catch {
      return;
    }
    if (event.status !== 'closed' || event.saleId === undefined) return;
    const saleId = String(event.saleId);
    queue
      .add('sale', { saleId }, { jobId: `closed-${saleId}`, removeOnComplete: true, removeOnFail: 100 })
      .catch((err) => ctx.log.error({ err, saleId }, 'could not enqueue reconciliation of a closed sale'));
  });

  // A Redis restart or failover (its run_id changes) may have lost acknowledged writes: reconcile every
  // active sale at once, which rebuilds any sale Redis is found behind on (rebuild.ts).
  const runIdOf = async () => /run_id:(\w+)/.exec(await ctx.redis.info('server'))?.[1];
  let runId = await runIdOf().catch(() => undefined);
  const onReady = () => {
    void runIdOf()
      .then(async (now) => {
        if (!now || now === runId) return;
        const before = runId;
        runId = now;
        if (!before) return;
        ctx.log.warn({ before, now }, 'Redis restarted or failed over (run_id changed): reconciling every active sale');
        await queue.add('all', {}, { jobId: `redis-restart-${now}`, removeOnComplete: true, removeOnFail: 100 });
      })
      .catch((err: unknown) => ctx.log.error({ err }, 'could not check the Redis run_id after a reconnect'));
  };
  ctx.redis.on('ready', onReady);

  return async () => {
    ctx.redis.off('ready', onReady);
    await unsubscribe(sub, [channel]).catch(() => {});
    sub.disconnect();
    await worker.close();
    await queue.close();
  };
}
