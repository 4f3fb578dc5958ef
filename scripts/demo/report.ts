import * as echarts from 'echarts';
import type { Journal, Outcome, Step } from './shopper.js';

/**
 * The demo's report: one self-contained HTML file (charts rendered here to inline SVG with ECharts'
 * server-side renderer, no scripts, no external files) and the summary.json it is made from.
 */
export interface Sample {
  /** seconds since the sale opened (negative before) */
  t: number;
  waiting: number;
  remaining: number;
  held: number;
  sold: number;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Summary {
  startedAt: string;
  finishedAt: string;
  engineUrl: string;
  shopperPage: string;
  merchantConsole: string;
  sale: { id: string; productId: string; quantity: number; priceCents: number; startsAt: string; holdSeconds: number; admission: { batchSize: number; intervalMs: number } };
  shoppers: number;
  /** Queue sockets that dropped without a close from the server and were opened again. */
  reconnects: number;
  cards: Record<string, number>;
  outcomes: Partial<Record<Outcome, number>>;
  funnel: Journal['funnel'];
  latencyMs: Record<Step, { count: number; p50: number; p90: number; p99: number; max: number }>;
  checks: Check[];
  ok: boolean;
  problems: string[];
}

export function percentiles(values: number[]) {
  const v = [...values].sort((a, b) => a - b);
  const at = (p: number) => (v.length ? v[Math.min(v.length - 1, Math.ceil((p / 100) * v.length) - 1)]! : 0);
  return { count: v.length, p50: at(50), p90: at(90), p99: at(99), max: v.length ? v[v.length - 1]! : 0 };
}

function svg(option: echarts.EChartsCoreOption, width = 880, height = 300): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  chart.setOption({ animation: false, textStyle: { fontFamily: 'system-ui, sans-serif' }, ...option });
  const out = chart.renderToSVGString();
  chart.dispose();
  return out;
}

const grid = { left: 60, right: 60, top: 64, bottom: 40 };
const title = (text: string) => ({ text, left: 'left', textStyle: { fontSize: 14 } });
const legend = { top: 28, left: 'center', textStyle: { fontSize: 11 } };

/** Events per second, keyed by whole seconds since the sale opened. */
function perSecond(events: Journal['events'], kind: string, openOffsetMs: number, from: number, to: number): Array<[number, number]> {
  const counts = new Map<number, number>();
  for (const [ms, k] of events) if (k === kind) counts.set(Math.floor((ms - openOffsetMs) / 1000), (counts.get(Math.floor((ms - openOffsetMs) / 1000)) ?? 0) + 1);
  const out: Array<[number, number]> = [];
  for (let s = from; s <= to; s++) out.push([s, counts.get(s) ?? 0]);
  return out;
}

export function charts(samples: Sample[], journal: Journal, openOffsetMs: number, summary: Summary): Record<string, string> {
  const from = Math.floor(samples[0]?.t ?? 0);
  const to = Math.ceil(samples[samples.length - 1]?.t ?? 0);
  const xAxis = { type: 'value', name: 's after opening', nameLocation: 'middle', nameGap: 26, min: from, max: to };
  const queue = svg({
    title: title('Queue length and admissions'),
    legend,
    grid,
    xAxis,
    yAxis: [{ type: 'value', name: 'waiting' }, { type: 'value', name: 'admitted / s' }],
    series: [
      { name: 'waiting in the queue', type: 'line', showSymbol: false, areaStyle: { opacity: 0.15 }, data: samples.map((s) => [s.t, s.waiting]) },
      { name: 'admissions per second', type: 'bar', barWidth: 5, yAxisIndex: 1, data: perSecond(journal.events, 'admitted', openOffsetMs, from, to) },
    ],
  });
  const rates = svg({
    title: title('Reservations and orders per second'),
    legend,
    grid,
    xAxis,
    yAxis: { type: 'value', name: 'per second' },
    series: [
      { name: 'reservations', type: 'bar', barWidth: 4, data: perSecond(journal.events, 'reserved', openOffsetMs, from, to) },
      { name: 'orders paid', type: 'bar', barWidth: 4, data: perSecond(journal.events, 'paid', openOffsetMs, from, to) },
      { name: 'payments declined', type: 'bar', barWidth: 4, data: perSecond(journal.events, 'declined', openOffsetMs, from, to) },
    ],
  });
  const stock = svg({
    title: title('Stock: remaining, held, sold (engine view)'),
    legend,
    grid,
    xAxis,
    yAxis: { type: 'value', name: 'units', max: summary.sale.quantity },
    series: (['sold', 'held', 'remaining'] as const).map((k) => ({ name: k, type: 'line', stack: 'units', showSymbol: false, areaStyle: {}, data: samples.map((s) => [s.t, s[k]]) })),
  });
  const steps = (['join', 'reserve', 'checkout', 'settle'] as const).filter((s) => summary.latencyMs[s].count > 0);
  const latency = svg({
    title: title('Latency percentiles per step (ms)'),
    legend,
    grid,
    xAxis: { type: 'category', data: steps.map((s) => STEP_NAMES[s]), axisLabel: { interval: 0 } },
    yAxis: { type: 'log', name: 'ms', min: 1 },
    series: (['p50', 'p90', 'p99'] as const).map((p) => ({
      name: p,
      type: 'bar',
      label: { show: true, position: 'top', fontSize: 10 },
      data: steps.map((s) => Math.max(1, summary.latencyMs[s][p])),
    })),
  });
  const f = summary.funnel;
  const stages: Array<[string, number]> = [['joined the queue', f.joined], ['admitted', f.admitted], ['reserved a unit', f.reserved], ['checked out', f.checkedOut], ['paid', f.paid]];
  const funnel = svg(
    {
      title: title('The funnel (a shopper who retried a decline counts again from admitted on)'),
      grid: { left: 130, right: 60, top: 40, bottom: 20 },
      xAxis: { type: 'value' },
      yAxis: { type: 'category', inverse: true, data: stages.map((s) => s[0]) },
      series: [{ type: 'bar', data: stages.map((s) => s[1]), label: { show: true, position: 'right' } }],
    },
    880,
    240,
  );
  return { queue, rates, stock, latency, funnel };
}

export const STEP_NAMES: Record<Step, string> = {
  join: 'join (socket to queued)',
  queue_wait: 'wait in the queue',
  reserve: 'reserve',
  checkout: 'checkout (202)',
  settle: 'checkout to paid/failed',
};

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function reportHtml(summary: Summary, svgs: Record<string, string>): string {
  const row = (cells: Array<string | number>, tag = 'td') => `<tr>${cells.map((c) => `<${tag}>${typeof c === 'number' ? c.toLocaleString('en-US') : c}</${tag}>`).join('')}</tr>`;
  const checks = summary.checks.map((c) => row([`<span class="${c.ok ? 'ok' : 'bad'}">${c.ok ? 'held' : 'FAILED'}</span>`, esc(c.name), esc(c.detail)])).join('');
  const outcomes = Object.entries(summary.outcomes).map(([k, v]) => row([esc(OUTCOME_NAMES[k as Outcome] ?? k), v!])).join('');
  const lat = (Object.keys(summary.latencyMs) as Step[]).map((s) => {
    const l = summary.latencyMs[s];
    return row([STEP_NAMES[s], l.count, l.p50, l.p90, l.p99, l.max]);
  }).join('');
  const cards = Object.entries(summary.cards).map(([k, v]) => `${esc(k)} ${v}`).join(', ');
  const secs = ((Date.parse(summary.finishedAt) - Date.parse(summary.startedAt)) / 1000).toFixed(0);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Flash-sale demo ${esc(summary.startedAt)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px auto;max-width:920px;color:#1d2433;padding:0 12px}
h1{font-size:22px;margin-bottom:4px} h2{font-size:17px;margin-top:28px;border-bottom:1px solid #e3e6ee;padding-bottom:4px}
.meta{color:#59627a;font-size:13px} table{border-collapse:collapse;font-size:13px;margin:8px 0}
td,th{border:1px solid #e3e6ee;padding:4px 8px;text-align:left} th{background:#f5f6fa}
.ok{color:#1a7f37;font-weight:600} .bad{color:#c0262d;font-weight:700}
.verdict{font-size:16px;padding:8px 12px;border-radius:6px;display:inline-block;margin-top:8px}
.verdict.ok{background:#e8f5ec} .verdict.bad{background:#fbeaea}
.chart{margin:12px 0}
</style></head><body>
<h1>Flash-sale demo</h1>
<div class="meta">${esc(summary.startedAt)} to ${esc(summary.finishedAt)} (${secs} s) &middot; engine ${esc(summary.engineUrl)} &middot;
sale ${esc(summary.sale.id)}: ${summary.sale.quantity} units at ${(summary.sale.priceCents / 100).toFixed(2)}, holds of ${summary.sale.holdSeconds} s,
admission ${summary.sale.admission.batchSize} every ${summary.sale.admission.intervalMs} ms &middot; ${summary.shoppers.toLocaleString('en-US')} simulated shoppers</div>
<div class="verdict ${summary.ok ? 'ok' : 'bad'}">${summary.ok ? 'Every invariant held.' : 'An invariant FAILED (see below).'}</div>
<h2>Invariants checked</h2>
<table>${row(['', 'invariant', 'what was compared'], 'th')}${checks}</table>
<h2>The funnel</h2><div class="chart">${svgs.funnel}</div>
<table>${row(['outcome told to the shopper', 'shoppers'], 'th')}${outcomes}</table>
<div class="meta">Queue sockets that dropped (no close frame) and reconnected, as the shopper page does: ${summary.reconnects}.</div>
<div class="meta">Cards tried (first choice, and the retry card of those who retried a decline): ${cards}</div>
<h2>Queue</h2><div class="chart">${svgs.queue}</div>
<h2>Throughput</h2><div class="chart">${svgs.rates}</div><div class="chart">${svgs.stock}</div>
<h2>Latency</h2><div class="chart">${svgs.latency}</div>
<table>${row(['step', 'count', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'], 'th')}${lat}</table>
${summary.problems.length ? `<h2>Problems seen</h2><ul>${summary.problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>` : ''}
<p class="meta">Shopper page: ${esc(summary.shopperPage)} &middot; merchant console: ${esc(summary.merchantConsole)} &middot; written by <code>npm run demo</code>; the figures are in summary.json beside this file.</p>
</body></html>
`;
}

export const OUTCOME_NAMES: Record<Outcome, string> = {
  paid: 'paid (order paid)',
  declined: 'card declined, gave up',
  sold_out: 'told sold out',
  closed: 'told the sale closed',
  hold_expired: 'hold expired before paying',
  left_queue: 'left the queue on purpose',
  left_hold: 'walked away from a hold on purpose',
  not_told: 'NOT told an outcome',
};
