import { Queue, Worker, type Job } from 'bullmq';
import type { Context } from '../infra/context.js';
import { endSale, openSale } from './lifecycle.js';
import { saleStatus } from './sale-status.js';

/**
 * Opening and closing are BullMQ delayed jobs (`open-<saleId>` at startsAt, `close-<saleId>` at endsAt), so
 * they live in Redis and fire on time after a restart. Job ids make adding twice a no-op; the handlers are
 * idempotent, so a retried or duplicated job does no harm. At start, and every minute, jobs missing for
 * scheduled or open sales are added again (and failed ones retried).
 */
export const SCHEDULE_QUEUE = 'sale-schedule';
type JobName = 'open' | 'close';
interface JobData {
  saleId: string;
}

const queues = new WeakMap<Context, Queue<JobData>>();

export function scheduleQueue(ctx: Context): Queue<JobData> {
  let q = queues.get(ctx);
  if (!q) {
    q = new Queue<JobData>(SCHEDULE_QUEUE, {
      connection: ctx.bull.connection,
      prefix: ctx.bull.prefix,
      defaultJobOptions: {
        attempts: 12,
        backoff: { type: 'exponential', delay: 250 },
        removeOnComplete: { age: 24 * 3600 },
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    });
    const queue = q;
    queues.set(ctx, queue);
    ctx.onClose(() => queue.close());
  }
  return q;
}

const jobId = (name: JobName, saleId: string) => `${name}-${saleId}`;

async function ensureJob(ctx: Context, name: JobName, saleId: string, at: Date): Promise<void> {
  const queue = scheduleQueue(ctx);
  const existing = await queue.getJob(jobId(name, saleId));
  if (existing) {
    if (await existing.isFailed()) await existing.retry();
    return;
  }
  await queue.add(name, { saleId }, { jobId: jobId(name, saleId), delay: Math.max(0, at.getTime() - Date.now()) });
}

export async function scheduleSale(ctx: Context, sale: { id: string; startsAt: Date; endsAt: Date }): Promise<void> {
  await ensureJob(ctx, 'open', sale.id, sale.startsAt);
  await ensureJob(ctx, 'close', sale.id, sale.endsAt);
}

/** Re-adds the jobs of every scheduled or open sale that lost them. Returns how many sales were checked. */
export async function ensureJobs(ctx: Context): Promise<number> {
  const { rows } = await ctx.db.query('SELECT id, status, starts_at, ends_at FROM sales WHERE status = ANY($1)', [saleStatus.live]);
  for (const r of rows) {
    const saleId = String(r.id);
    if (r.status === 'scheduled') await ensureJob(ctx, 'open', saleId, r.starts_at);
    await ensureJob(ctx, 'close', saleId, r.ends_at);
  }
  return rows.length;
}

async function handle(ctx: Context, job: Job<JobData>): Promise<string | null> {
  const { saleId } = job.data;
  if (job.name === 'open') return openSale(ctx, saleId);
  if (job.name === 'close') return endSale(ctx, saleId, 'closed');
  throw new Error(`unknown schedule job ${job.name}`);
}

/** Starts the worker and the periodic repair; returns the stop function. */
export async function startScheduler(ctx: Context): Promise<() => Promise<void>> {
  const worker = new Worker<JobData>(SCHEDULE_QUEUE, (job) => handle(ctx, job), {
    connection: ctx.bull.connection,
    prefix: ctx.bull.prefix,
    concurrency: 4,
  });
  worker.on('failed', (job, err) => ctx.log.warn({ err, job: job?.id, attempts: job?.attemptsMade }, 'sale schedule job failed'));
  worker.on('error', (err) => ctx.log.error({ err }, 'sale schedule worker error'));
  const repair = () => ensureJobs(ctx).catch((err) => ctx.log.error({ err }, 'could not re-add sale schedule jobs'));
  await repair();
  const timer = setInterval(repair, 60_000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await worker.close();
  };
}
