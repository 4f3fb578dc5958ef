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

const jobId = (name: JobName, saleId: string) => `${name}-${saleId}`;

/** The sale schedule of one process: its BullMQ queue, made by the reservation part. */
export class SaleScheduler {
  readonly queue: Queue<JobData>;

  constructor(private readonly ctx: Context) {
    this.queue = new Queue<JobData>(SCHEDULE_QUEUE, {
      connection: ctx.bull.connection,
      prefix: ctx.bull.prefixFor(SCHEDULE_QUEUE),
      defaultJobOptions: {
        attempts: 12,
        backoff: { type: 'exponential', delay: 250 },
        removeOnComplete: { age: 24 * 3600 },
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    });
    ctx.onClose(() => this.queue.close());
  }

  /** Adds the open and close jobs of a sale (a no-op for jobs that exist). */
  async schedule(sale: { id: string; startsAt: Date; endsAt: Date }): Promise<void> {
    await this.ensureJob('open', sale.id, sale.startsAt);
    await this.ensureJob('close', sale.id, sale.endsAt);
  }

  /** Re-adds the jobs of every scheduled or open sale that lost them. Returns how many sales were checked. */
  async ensureJobs(): Promise<number> {
    const { rows } = await this.ctx.db.query('SELECT id, status, starts_at, ends_at FROM sales WHERE status = ANY($1)', [saleStatus.live]);
    for (const r of rows) {
      const saleId = String(r.id);
      if (r.status === 'scheduled') await this.ensureJob('open', saleId, r.starts_at);
      await this.ensureJob('close', saleId, r.ends_at);
    }
    return rows.length;
  }

  /** Starts the worker and the periodic repair; returns the stop function. */
  async start(): Promise<() => Promise<void>> {
    const ctx = this.ctx;
    const worker = new Worker<JobData>(SCHEDULE_QUEUE, (job) => handle(ctx, job), {
      connection: ctx.bull.connection,
      prefix: ctx.bull.prefixFor(SCHEDULE_QUEUE),
      concurrency: 4,
    });
    worker.on('failed', (job, err) => ctx.log.warn({ err, job: job?.id, attempts: job?.attemptsMade }, 'sale schedule job failed'));
    worker.on('error', (err) => ctx.log.error({ err }, 'sale schedule worker error'));
    const repair = () => this.ensureJobs().catch((err) => ctx.log.error({ err }, 'could not re-add sale schedule jobs'));
    await repair();
    const timer = setInterval(repair, 60_000);
    timer.unref();
    return async () => {
      clearInterval(timer);
      await worker.close();
    };
  }

  private async ensureJob(name: JobName, saleId: string, at: Date): Promise<void> {
    const existing = await this.queue.getJob(jobId(name, saleId));
    if (existing) {
      if (await existing.isFailed()) await existing.retry();
      return;
    }
    await this.queue.add(name, { saleId }, { jobId: jobId(name, saleId), delay: Math.max(0, at.getTime() - Date.now()) });
  }
}

async function handle(ctx: Context, job: Job<JobData>): Promise<string | null> {
  const { saleId } = job.data;
  if (job.name === 'open') return openSale(ctx, saleId);
  if (job.name === 'close') return endSale(ctx, saleId, 'closed');
  throw new Error(`unknown schedule job ${job.name}`);
}
