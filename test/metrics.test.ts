import parsePrometheusTextFormat, { type PromFamily } from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, makeSale, makeUsers } from './sales.js';
import { QueueClient } from './waiting-room.js';
import { startTestEngine, type TestEngine } from './engine.js';
import { startPsp, type PspProcess } from './psp.js';

let t: TestEngine;
let psp: PspProcess;

beforeAll(async () => {
  psp = await startPsp();
  t = await startTestEngine({ pspUrl: psp.url, metricsToken: 'metrics-secret' });
});
afterAll(async () => {
  await t?.cleanup();
  await psp?.cleanup();
});

interface Scrape {
  families: Map<string, PromFamily>;
  text: string;
}

async function scrape(): Promise<Scrape> {
  const r = await fetch(`${t.url}/metrics`, { headers: { authorization: 'Bearer metrics-secret' } });
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await r.text();
  return { families: new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f])), text };
}

/**
 * The value of the counter or gauge sample whose labels include `labels` (0 when there is none). For a
 * histogram, the observation count of the series with exactly those labels: the parser folds labelled
 * histograms into one sample, so that count is read from its `_count` line.
 */
function value({ families, text }: Scrape, name: string, labels: Record<string, string> = {}): number {
  const family = families.get(name);
  if (family?.type === 'HISTOGRAM') {
    const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',');
    for (const line of text.split('\n')) {
      const m = /^(\w+)_count\{(.*)\} (\S+)$/.exec(line);
      if (m && m[1] === name && m[2].split(/,(?=\w+=")/).sort().join(',') === wanted) return Number(m[3]);
    }
    return 0;
  }
  const sample = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return sample ? Number(sample.value) : 0;
}

describe('GET /metrics', () => {
  it('needs the metrics token: none or a wrong one is a 401 in the error shape', async () => {
    for (const token of [undefined, 'wrong', t.config.adminApiKey]) {
      const r = await t.api('GET', '/metrics', { token });
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('unauthorized');
    }
  });

  it('follows the naming conventions: one prefix, _total counters, seconds, default process metrics', async () => {
    const { families } = await scrape();
    for (const [name, f] of families) {
      expect(name.startsWith('flashsale_')).toBe(true);
      if (f.type === 'COUNTER') expect(name.endsWith('_total')).toBe(true);
      if (f.type === 'HISTOGRAM') expect(name).toMatch(/_seconds$/);
    }
    expect(families.has('flashsale_process_cpu_seconds_total')).toBe(true);
    expect(families.has('flashsale_nodejs_heap_size_used_bytes')).toBe(true);
  });

  it('counters move by exactly what a known sale caused', async () => {
    const before = await scrape();
    const { saleId } = await makeSale(t, { quantity: 5, perUserLimit: 1 });
    const users = await makeUsers(t.ctx, 8);
    const answers = await Promise.all(
      users.map((u) => t.api('POST', `/api/sales/${saleId}/reservations`, { token: u.token, body: { quantity: 1 }, headers: { 'idempotency-key': `m-${u.id}` } })),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(5);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(3);
    const winners = users.filter((_, i) => answers[i].status === 201);
    // a replay of the first winner's request (same Idempotency-Key) takes nothing
    const replay = await t.api('POST', `/api/sales/${saleId}/reservations`, { token: winners[0].token, body: { quantity: 1 }, headers: { 'idempotency-key': `m-${winners[0].id}` } });
    expect(replay.status).toBe(201);
    expect(replay.body.reservationId).toBe(answers[users.indexOf(winners[0])].body.reservationId);
    // three pay with a good card, one is declined
    const methods = ['pm_card_ok', 'pm_card_ok', 'pm_card_ok', 'pm_card_declined'];
    const orders = await Promise.all(
      methods.map((pm, i) =>
        t.api('POST', `/api/reservations/${answers[users.indexOf(winners[i])].body.reservationId}/checkout`, {
          token: winners[i].token,
          body: { paymentMethod: pm },
          headers: { 'idempotency-key': `pay-${i}` },
        }),
      ),
    );
    expect(orders.map((o) => o.status)).toEqual([202, 202, 202, 202]);
    await eventually(async () => {
      const statuses = await Promise.all(orders.map((o, i) => t.api('GET', `/api/orders/${o.body.orderId}`, { token: winners[i].token })));
      return statuses.every((s) => s.body.status !== 'pending');
    }, 'the four orders to settle');
    const reconcile = await t.api('POST', `/admin/sales/${saleId}/reconcile`, { token: t.config.adminApiKey });
    expect(reconcile.status).toBe(200);

    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => value(after, name, labels) - value(before, name, labels);
    expect(delta('flashsale_reservations_total', { sale: saleId, result: 'ok' })).toBe(5);
    expect(delta('flashsale_reservations_total', { sale: saleId, result: 'sold_out' })).toBe(3);
    expect(delta('flashsale_reservations_total', { sale: saleId, result: 'replayed' })).toBe(1);
    const reserveRoute = { method: 'POST', route: '/api/sales/:id/reservations' };
    expect(delta('flashsale_http_request_duration_seconds', { ...reserveRoute, status: '201' })).toBe(6);
    expect(delta('flashsale_http_request_duration_seconds', { ...reserveRoute, status: '409' })).toBe(3);
    expect(delta('flashsale_http_request_duration_seconds', { method: 'POST', route: '/api/reservations/:id/checkout', status: '202' })).toBe(4);
    expect(delta('flashsale_settlement_checkouts_total', { outcome: 'paid' })).toBe(3);
    expect(delta('flashsale_settlement_checkouts_total', { outcome: 'compensated' })).toBe(1);
    expect(delta('flashsale_psp_calls_total', { operation: 'charge', outcome: 'ok' })).toBe(3);
    expect(delta('flashsale_psp_calls_total', { operation: 'charge', outcome: 'declined' })).toBe(1);
    expect(delta('flashsale_psp_call_duration_seconds', { operation: 'charge' })).toBe(4);
    expect(delta('flashsale_reconciliation_runs_total', { sale: saleId, result: 'ok' })).toBe(1);
    expect(value(after, 'flashsale_reconciliation_drift_units', { sale: saleId })).toBe(0);
    expect(value(after, 'flashsale_reconciliation_mismatches', { sale: saleId })).toBe(0);
    const bull = after.families.get('flashsale_bullmq_jobs')?.metrics.filter((m) => m.labels?.queue === 'settlement') ?? [];
    expect(bull.map((m) => m.labels?.state).sort()).toEqual(['active', 'completed', 'delayed', 'failed', 'waiting']);
    expect(value(after, 'flashsale_bullmq_jobs', { queue: 'settlement', state: 'waiting' })).toBe(0);
    // no label carries a user id
    for (const f of after.families.values()) for (const m of f.metrics) expect(Object.keys(m.labels ?? {})).not.toContain('user');
  });

  it('waiting-room sockets, queue sizes and admissions', async () => {
    const { saleId } = await makeSale(t, { quantity: 10, waitingRoom: true, startsInMs: 60_000 });
    const [user] = await makeUsers(t.ctx, 1);
    const client = await QueueClient.connect(t.url, saleId, user.token);
    try {
      await client.waitFor((m) => m.type === 'status' || m.type === 'queued', 'the first status');
      const families = await eventually(async () => {
        const f = await scrape();
        return value(f, 'flashsale_queue_shoppers', { sale: saleId, state: 'pre' }) === 1 ? f : undefined;
      }, 'the pre-queue size to read 1');
      expect(value(families, 'flashsale_websocket_connections')).toBeGreaterThanOrEqual(1);
      expect(value(families, 'flashsale_queue_shoppers', { sale: saleId, state: 'waiting' })).toBe(0);
    } finally {
      client.close();
    }
  });
});
