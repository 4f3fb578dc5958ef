import client from 'prom-client';

/**
 * Prometheus metrics of this process (each gateway or worker process serves its own at GET /metrics).
 * Names follow Prometheus conventions: one prefix, base units (seconds), `_total` for counters. Label values
 * are bounded: route templates, sale ids, outcomes; never user ids.
 *
 * Parts define their metrics next to their code with these helpers. Gauges whose value lives in Redis or
 * BullMQ are read at scrape time from sources that a running part registers (and removes when it stops).
 */
export const METRIC_PREFIX = 'flashsale_';
export const metricsRegistry = new client.Registry();
client.collectDefaultMetrics({ register: metricsRegistry, prefix: METRIC_PREFIX });

export function counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []) {
  return new client.Counter<L>({ name: METRIC_PREFIX + name, help, labelNames, registers: [metricsRegistry] });
}

export function histogram<L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]) {
  return new client.Histogram<L>({ name: METRIC_PREFIX + name, help, labelNames, buckets, registers: [metricsRegistry] });
}

/** A reading taken at scrape time: label values and the value. */
export type Reading<L extends string> = [labels: Partial<Record<L, string>>, value: number];
export type Source<L extends string> = () => Promise<Array<Reading<L>>> | Array<Reading<L>>;

/**
 * A gauge read at scrape time from every source registered with `add` (one per running part instance;
 * `add` returns the removal). A source that fails is skipped for that scrape: /metrics still answers.
 */
export function sampledGauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []) {
  const sources = new Set<Source<L>>();
  new client.Gauge<L>({
    name: METRIC_PREFIX + name,
    help,
    labelNames,
    registers: [metricsRegistry],
    async collect() {
      this.reset();
      const all = await Promise.all([...sources].map((s) => Promise.resolve().then(s).catch(() => [] as Array<Reading<L>>)));
      const sums = new Map<string, Reading<L>>();
      for (const readings of all) {
        for (const [labels, value] of readings) {
          const key = JSON.stringify(labels);
          const prev = sums.get(key);
          sums.set(key, [labels, (prev?.[1] ?? 0) + value]);
        }
      }
      for (const [labels, value] of sums.values()) this.set(labels as client.LabelValues<L>, value);
    },
  });
  return {
    add(source: Source<L>): () => void {
      sources.add(source);
      return () => sources.delete(source);
    },
  };
}

/** The exposition text and its content type. */
export async function renderMetrics(): Promise<{ text: string; contentType: string }> {
  return { text: await metricsRegistry.metrics(), contentType: metricsRegistry.contentType };
}
