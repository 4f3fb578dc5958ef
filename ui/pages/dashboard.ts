/**
 * A sale's live dashboard, `/dashboard/sales/:id`: status and countdown; stock (remaining, held, sold);
 * the waiting room (pre-queue, waiting, admitted and not yet bought, serving position, admission rate,
 * estimated wait at the back); reservations, paid and failed orders per second; PSP declines; the funnel
 * queued -> admitted -> reserved -> paid; the integrity line quantity = remaining + held + sold, the Redis
 * vs Postgres drift and the oversell counter. Fed every second by `WS /admin/ws/sales/:id`
 * (gateway/console.ts), last 10 minutes drawn with uPlot. Close, cancel and reconcile ask first.
 */
import { adminApi, adminKey, ApiError, cents, consoleShell, fmtTime, h } from '../lib/admin.js';
import { lineChart, WINDOW_S, type Chart } from '../lib/dashboard-charts.js';
import { formatDuration } from '../lib/queue-state.js';

type Sample = Record<string, any> & { t: number };

const saleId = decodeURIComponent(location.pathname.split('/')[3] ?? '');
const main = consoleShell('dashboard');
if (main) void start(main);

function tile(label: string, key: string, hint?: string): HTMLElement {
  return h('div', { class: 'tile', 'data-tile': key }, h('span', { class: 'tile-label' }, label), h('strong', { class: 'tile-value', 'data-value': key }, '–'), hint ? h('small', { class: 'muted' }, hint) : '');
}

const fmt = (v: unknown, digits = 0) => (typeof v === 'number' && Number.isFinite(v) ? v.toLocaleString('en-US', { maximumFractionDigits: digits }) : '–');

async function start(main: HTMLElement): Promise<void> {
  let sale: { name: string; status: string; quantity: number; priceCents: number; startsAt: string; endsAt: string; waitingRoom: boolean };
  try {
    sale = await adminApi('GET', `/admin/sales/${encodeURIComponent(saleId)}`);
  } catch (err) {
    main.append(h('h1', {}, err instanceof ApiError && err.status === 404 ? 'No such sale' : 'The sale could not be loaded'));
    return;
  }
  document.title = `${sale.name} · live`;
  const status = h('span', { class: 'sale-status', 'data-testid': 'sale-status' });
  const countdown = h('span', { class: 'muted', 'data-testid': 'sale-countdown' });
  const live = h('span', { class: 'feed muted', 'data-testid': 'feed' }, 'Connecting…');
  const actionNote = h('p', { class: 'muted', 'data-testid': 'action-note' });
  const action = (label: string, path: string, question: string, cls = 'secondary') => {
    const b = h('button', { type: 'button', class: cls, 'data-action': path }, label) as HTMLButtonElement;
    b.addEventListener('click', async () => {
      if (!confirm(question)) return;
      b.disabled = true;
      try {
        const r = await adminApi('POST', `/admin/sales/${encodeURIComponent(saleId)}/${path}`);
        actionNote.className = 'ok';
        actionNote.textContent = path === 'reconcile' ? `Reconciled: ${r.ok ? 'everything matches' : `${r.mismatches.length} mismatch(es): ${r.mismatches.join('; ')}`}${r.repaired?.length ? `, ${r.repaired.length} repaired` : ''}.` : `Sale ${r.status}.`;
      } catch (err) {
        actionNote.className = 'error';
        actionNote.textContent = err instanceof ApiError ? err.message : 'The server did not answer.';
      } finally {
        b.disabled = false;
      }
    });
    return b;
  };
  const integrity = h('p', { class: 'integrity', 'data-testid': 'integrity' });
  const funnel = h('div', { class: 'funnel', 'data-testid': 'funnel' });
  const charts = h('div', { class: 'charts' });
  main.append(
    h(
      'header',
      { class: 'card dash-head' },
      h('div', { class: 'row' }, h('h1', {}, `#${saleId} ${sale.name}`), live),
      h('div', { class: 'row' }, h('span', {}, status, ' ', countdown), h('span', { class: 'muted' }, `${sale.quantity} units at ${cents(sale.priceCents)} · ${fmtTime(sale.startsAt)} → ${fmtTime(sale.endsAt)}`)),
      h('div', { class: 'row actions' }, action('Close sale', 'close', 'Close this sale now? Shoppers can no longer reserve.'), action('Cancel sale', 'cancel', 'Cancel this sale? It ends at once and its unsold units go back to inventory.', 'danger'), action('Reconcile', 'reconcile', 'Run reconciliation of Redis against Postgres and the PSP now?')),
      actionNote,
    ),
    h('section', { class: 'card' }, h('h2', {}, 'Integrity'), integrity, h('div', { class: 'tiles' }, tile('Redis vs Postgres drift', 'drift', 'units sold in Redis − units in paid orders'), tile('Oversell', 'oversell', 'units sold past the quantity: must be 0'), tile('PSP declines', 'declines'))),
    h('section', { class: 'card' }, h('h2', {}, 'Stock'), h('div', { class: 'tiles' }, tile('Remaining', 'remaining'), tile('Held', 'held', 'reserved, not yet paid'), tile('Sold', 'sold'))),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Waiting room'),
      h(
        'div',
        { class: 'tiles' },
        tile('Pre-queue', 'preQueue', 'joined before the start'),
        tile('Waiting', 'waiting'),
        tile('Admitted, not bought', 'admittedNotBought'),
        tile('Serving position', 'serving'),
        tile('Admission rate', 'admissionRate', 'places per second'),
        tile('Wait at the back', 'etaBack'),
      ),
    ),
    h('section', { class: 'card' }, h('h2', {}, 'Throughput'), h('div', { class: 'tiles' }, tile('Reservations / s', 'reservationsPerSecond'), tile('Paid orders / s', 'paidPerSecond'), tile('Failed orders / s', 'failedPerSecond'))),
    h('section', { class: 'card' }, h('h2', {}, 'Funnel'), funnel),
    h('section', { class: 'card' }, h('h2', {}, 'Last 10 minutes'), charts),
  );

  const chartBox = () => h('div', { class: 'chart' });
  const boxes = [chartBox(), chartBox(), chartBox(), chartBox()];
  charts.append(...boxes);
  const width = () => Math.max(260, (boxes[0].clientWidth || charts.clientWidth) - 4);
  const all: Chart[] = [
    lineChart(boxes[0], 'Stock', [{ key: 'remaining', label: 'remaining', color: '#0a66c2' }, { key: 'held', label: 'held', color: '#e8a317' }, { key: 'sold', label: 'sold', color: '#1a7f37' }], width()),
    lineChart(boxes[1], 'Waiting room', [{ key: 'preQueue', label: 'pre-queue', color: '#7b61ff' }, { key: 'waiting', label: 'waiting', color: '#0a66c2' }, { key: 'admittedNotBought', label: 'admitted, not bought', color: '#e8a317' }], width()),
    lineChart(boxes[2], 'Per second', [{ key: 'reservationsPerSecond', label: 'reservations', color: '#0a66c2' }, { key: 'paidPerSecond', label: 'paid orders', color: '#1a7f37' }, { key: 'failedPerSecond', label: 'failed orders', color: '#c62828' }], width()),
    lineChart(boxes[3], 'Integrity', [{ key: 'declines', label: 'PSP declines', color: '#e8a317' }, { key: 'drift', label: 'drift', color: '#7b61ff' }, { key: 'oversell', label: 'oversell', color: '#c62828' }], width()),
  ];
  addEventListener('resize', () => all.forEach((c) => c.resize(width())));

  let samples: Sample[] = [];
  let last: Sample | undefined;
  const setValue = (key: string, text: string, bad = false) => {
    const el = main.querySelector<HTMLElement>(`[data-value="${key}"]`);
    if (!el) return;
    el.textContent = text;
    el.classList.toggle('bad', bad);
  };

  function render(): void {
    const now = Date.now();
    all.forEach((c) => c.setData(samples, now));
    const s = last;
    if (!s) return;
    status.textContent = s.status;
    status.className = `sale-status ${s.status}`;
    const startMs = Date.parse(s.startsAt);
    const endMs = Date.parse(s.endsAt);
    countdown.textContent = s.status === 'closed' || s.status === 'cancelled' || now >= endMs ? 'ended' : now < startMs ? `starts in ${formatDuration((startMs - now) / 1000)}` : `ends in ${formatDuration((endMs - now) / 1000)}`;
    for (const k of ['remaining', 'held', 'sold', 'preQueue', 'waiting', 'admittedNotBought', 'serving', 'declines']) setValue(k, fmt(s[k]));
    setValue('admissionRate', s.admissionRate === null ? '–' : fmt(s.admissionRate, 1));
    setValue('etaBack', s.etaBackSeconds === null || s.etaBackSeconds === undefined ? '–' : formatDuration(s.etaBackSeconds));
    for (const k of ['reservationsPerSecond', 'paidPerSecond', 'failedPerSecond']) setValue(k, fmt(s[k], 1));
    setValue('drift', fmt(s.drift), s.drift !== 0);
    setValue('oversell', fmt(s.oversell), s.oversell !== 0);
    const i = s.integrity as { quantity: number; sum: number; ok: boolean };
    integrity.className = `integrity ${i.ok ? 'ok' : 'error'}`;
    integrity.textContent = `quantity ${fmt(i.quantity)} ${i.ok ? '=' : '≠'} remaining ${fmt(s.remaining)} + held ${fmt(s.held)} + sold ${fmt(s.sold)}${s.status === 'scheduled' ? ' (not open yet)' : ''}`;
    const steps: Array<[string, number]> = [['queued', s.queued], ['admitted', s.admitted], ['reserved', s.reservations], ['paid', s.paidOrders]];
    const top = Math.max(1, ...steps.map(([, v]) => v ?? 0));
    funnel.replaceChildren(
      ...steps.map(([label, v]) => {
        const bar = h('div', { class: 'funnel-bar' });
        bar.style.width = `${Math.max(1, Math.round(((v ?? 0) / top) * 100))}%`;
        return h('div', { class: 'funnel-step', 'data-step': label }, h('span', { class: 'funnel-label' }, label), h('div', { class: 'funnel-track' }, bar), h('strong', { 'data-value': `funnel-${label}` }, fmt(v)));
      }),
    );
  }

  // The feed: authenticate with the kept key, take the history, then a sample a second; reconnect with backoff.
  let attempt = 0;
  const connect = () => {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/admin/ws/sales/${encodeURIComponent(saleId)}`);
    ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', key: adminKey.get() }));
    ws.onmessage = (ev) => {
      const m = JSON.parse(String(ev.data));
      if (m.type === 'history') {
        attempt = 0;
        samples = m.samples;
        last = samples[samples.length - 1];
        live.textContent = '● Live';
        live.className = 'feed ok';
      } else if (m.type === 'sample') {
        samples.push(m.sample);
        const cut = m.sample.t - WINDOW_S * 1000;
        while (samples.length && samples[0].t < cut) samples.shift();
        last = m.sample;
      }
      render();
    };
    ws.onclose = (ev) => {
      live.className = 'feed error';
      if (ev.code === 4401) {
        adminKey.clear();
        location.reload();
        return;
      }
      if (ev.code === 4404) {
        live.textContent = 'No such sale';
        return;
      }
      const delay = Math.min(15_000, 500 * 2 ** attempt++) * (0.5 + Math.random() / 2);
      live.textContent = `Connection lost, retrying in ${Math.ceil(delay / 1000)} s…`;
      setTimeout(connect, delay);
    };
  };
  connect();
  setInterval(render, 1000);
}
