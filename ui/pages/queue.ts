/**
 * The shopper queue page, `/sales/:id`: product and price, countdown to the start, a live place in line
 * (WebSocket, reconnecting with backoff; HTTP polling where WebSocket is missing), "You're in" with the
 * time left and a Reserve button, the confirmation, and the sold-out and closed states. Signs the shopper
 * in on the page when there is no token in localStorage.
 */
import { api, ApiError, session } from '../lib/api.js';
import { powParams } from '../lib/queue-pow.js';
import { startPolling } from '../lib/queue-poll.js';
import { QueueSocket, queueSocketUrl, type SocketStatus } from '../lib/queue-socket.js';
import { applyLocal, applyMessage, initialState, isFinished, PAY_PHASES, phaseOfOrder, type QueueState, type Reservation, type SaleView, type ServerMessage } from '../lib/queue-state.js';
import { createQueueView, type QueueView } from '../lib/queue-view.js';
import type { Order } from '../lib/orders.js';

const app = document.getElementById('app')!;
const saleId = decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] ?? '');
const stashKey = `fs.queue.${saleId}`;
/** Close code of a socket whose place a newer connection took (waiting-room/messages.ts). */
const CLOSE_REPLACED = 4001;

/** Admission, reservation and the pay step survive a reload of the tab (not of the browser). */
function loadStash(): Partial<QueueState> {
  try {
    const s = JSON.parse(sessionStorage.getItem(stashKey) ?? '{}') as Partial<QueueState> & { userId?: string };
    if (s.userId !== session.userId) return {};
    if (s.admissionExpiresAt && Date.parse(s.admissionExpiresAt) > Date.now() && s.admissionToken) {
      return { phase: 'admitted', admissionToken: s.admissionToken, admissionExpiresAt: s.admissionExpiresAt, position: 0 };
    }
    if (s.reservation && s.order && !(s.order.status === 'failed' && s.order.retry)) return { phase: phaseOfOrder(s.order.status), reservation: s.reservation, order: s.order };
    if (s.reservation && Date.parse(s.reservation.expiresAt) > Date.now()) return { phase: 'reserved', reservation: s.reservation };
  } catch {
    /* a corrupt stash is ignored */
  }
  return {};
}

function saveStash(s: QueueState): void {
  const keep =
    s.phase === 'admitted' || s.phase === 'reserving'
      ? { admissionToken: s.admissionToken, admissionExpiresAt: s.admissionExpiresAt }
      : s.phase === 'reserved' || s.phase === 'paying' || s.phase === 'paid' || s.phase === 'payment_failed'
        ? { reservation: s.reservation, order: s.order }
        : null;
  if (keep) sessionStorage.setItem(stashKey, JSON.stringify({ ...keep, userId: session.userId }));
  else sessionStorage.removeItem(stashKey);
}

/** The checkout's Idempotency-Key, one per hold, kept for the tab: a retried Pay cannot pay twice. */
function checkoutKey(reservationId: string): string {
  const name = `fs.checkoutKey.${reservationId}`;
  let key = sessionStorage.getItem(name);
  if (!key) sessionStorage.setItem(name, (key = randomKey()));
  return key;
}

function randomKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function main(): Promise<void> {
  let sale: SaleView;
  try {
    sale = await api<SaleView>('GET', `/api/sales/${encodeURIComponent(saleId)}`);
  } catch (err) {
    const missing = err instanceof ApiError && err.status === 404;
    app.innerHTML = '';
    app.append(Object.assign(document.createElement('h1'), { textContent: missing ? 'No such sale' : 'The sale could not be loaded' }));
    app.append(Object.assign(document.createElement('p'), { className: 'muted', textContent: missing ? 'Check the link.' : 'Reload the page to try again.' }));
    return;
  }

  let state: QueueState = sale.status === 'closed' || sale.status === 'cancelled' ? { phase: 'closed', saleClosed: true } : initialState;
  let socket: QueueSocket | null = null;
  let stopPolling: (() => void) | null = null;
  let connection: SocketStatus | null = null;
  let reserveKey = '';
  let authChecks = 0;

  const view: QueueView = createQueueView(app, sale, {
    reserve: () => void reserve(),
    pay: (method) => void pay(method),
    release: () => void release(),
    rejoin: () => {
      // Same ticket if the server still holds the place (the progress bar carries on), else a new one.
      state = { ...state, phase: 'connecting', notice: undefined, admissionToken: undefined, admissionExpiresAt: undefined };
      render();
      restart();
    },
    signIn: async (mode, email, password) => {
      const out = await api<{ userId: string; token: string }>('POST', `/api/auth/${mode}`, { email, password });
      session.signIn(String(out.userId), out.token);
      view.hideSignIn();
      begin();
    },
    signOut: () => {
      stop();
      session.signOut();
      sessionStorage.removeItem(stashKey);
      state = sale.status === 'closed' ? state : { ...initialState };
      render();
      view.showSignIn();
    },
  });

  function render(): void {
    view.update(state, Date.now());
    saveStash(state);
  }

  function dispatch(msg: ServerMessage): void {
    state = applyMessage(state, msg);
    if (msg.type === 'sold_out') view.setRemaining(0);
    if (msg.type === 'closed' || (msg.type === 'sold_out' && msg.final)) stop();
    render();
  }

  function dispatchLocal(ev: Parameters<typeof applyLocal>[1]): void {
    state = applyLocal(state, ev);
    render();
  }

  function setConnection(st: SocketStatus | null): void {
    connection = st;
    view.setConnection(st, !!session.token);
  }

  async function reserve(): Promise<void> {
    if (state.phase !== 'admitted' || !state.admissionToken) return;
    reserveKey ||= randomKey();
    dispatchLocal({ type: 'reserve_started' });
    try {
      const r = await api<Reservation>('POST', `/api/sales/${encodeURIComponent(saleId)}/reservations`, { quantity: 1 }, { 'admission-token': state.admissionToken, 'idempotency-key': reserveKey });
      dispatchLocal({ type: 'reserved', reservation: r });
      api<SaleView>('GET', `/api/sales/${encodeURIComponent(saleId)}`).then((s) => view.setRemaining(s.remaining), () => {});
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return expireSession();
      const e = err instanceof ApiError ? err : new ApiError(0, 'network', 'Network problem, try again.');
      // The same key is kept after a network failure, so a retry cannot reserve twice.
      if (e.status !== 0) reserveKey = '';
      dispatchLocal({ type: 'reserve_failed', code: e.code, message: e.message });
    }
  }

  /**
   * Pay: the flash checkout of the hold with the chosen card and the hold's Idempotency-Key. The answer is
   * `pending` (202); the socket's `order` message (or a poll of the order) brings paid or failed.
   */
  async function pay(paymentMethod: string): Promise<void> {
    if (state.phase !== 'reserved' || !state.reservation || state.payBusy) return;
    const rid = state.reservation.reservationId;
    dispatchLocal({ type: 'pay_started' });
    try {
      const r = await api<{ orderId: string; status: string }>('POST', `/api/reservations/${encodeURIComponent(rid)}/checkout`, { paymentMethod }, { 'idempotency-key': checkoutKey(rid) });
      dispatchLocal({ type: 'pay_accepted', orderId: r.orderId, status: r.status });
      schedulePoll(connection?.kind === 'open' ? 4000 : 1000);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return expireSession();
      const e = err instanceof ApiError ? err : new ApiError(0, 'network', 'Network problem: press Pay again (you will not be charged twice).');
      dispatchLocal({ type: 'pay_failed', code: e.code, message: e.message });
    }
  }

  async function release(): Promise<void> {
    if (state.phase !== 'reserved' || !state.reservation) return;
    if (!confirm('Release your hold? The unit goes back on sale.')) return;
    try {
      await api('DELETE', `/api/reservations/${encodeURIComponent(state.reservation.reservationId)}`);
      dispatchLocal({ type: 'released' });
      api<SaleView>('GET', `/api/sales/${encodeURIComponent(saleId)}`).then((s) => view.setRemaining(s.remaining), () => {});
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return expireSession();
      dispatchLocal({ type: 'pay_failed', code: err instanceof ApiError ? err.code : 'network', message: err instanceof ApiError ? err.message : 'Network problem, try again.' });
    }
  }

  /**
   * While the order is pending, its status is polled: every 2 s when the socket is down, and once in a
   * while anyway (a message sent while the socket was reconnecting is not sent again).
   */
  let pollTimer: ReturnType<typeof setTimeout> | null = null;
  function schedulePoll(ms: number): void {
    if (pollTimer) clearTimeout(pollTimer);
    pollTimer = setTimeout(() => void pollOrder(), ms);
  }
  async function pollOrder(): Promise<void> {
    pollTimer = null;
    const order = state.order;
    if (state.phase !== 'paying' || !order) return;
    try {
      const o = await api<Order>('GET', `/api/orders/${encodeURIComponent(order.orderId)}`);
      // Only if the page still waits for this order (not a newer attempt after a declined card).
      if (state.order?.orderId === o.id) dispatchLocal({ type: 'order_status', orderId: o.id, status: o.status, reason: o.failureReason, retry: o.retry });
    } catch {
      /* tried again below */
    }
    if (state.phase === 'paying') schedulePoll(connection?.kind === 'open' ? 5000 : 2000);
  }

  /** The token was refused: forget it and ask the shopper to sign in again. */
  function expireSession(): void {
    stop();
    session.signOut();
    state = { ...initialState };
    render();
    view.showSignIn('Your session has expired. Sign in again to keep your place.');
  }

  /** A socket that never opens may be a refused token (401 at upgrade is invisible to the browser). */
  async function checkAuth(): Promise<void> {
    try {
      await api('GET', `/api/sales/${encodeURIComponent(saleId)}/queue`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) expireSession();
    }
  }

  let openTimer: ReturnType<typeof setTimeout> | null = null;

  function begin(): void {
    state = { ...state, ...loadStash() };
    if (state.phase === 'closed') return render();
    if (state.phase === 'paying') schedulePoll(1000);
    const opensIn = sale.queueOpensAt ? Date.parse(sale.queueOpensAt) - Date.now() : 0;
    if (opensIn > 0 && state.phase === 'connecting') {
      // Join when the line opens, spread over two seconds so every waiting phone does not hit at once.
      state = { ...state, phase: 'early' };
      render();
      openTimer = setTimeout(() => {
        openTimer = null;
        state = { ...state, phase: 'connecting' };
        begin();
      }, opensIn + Math.random() * 2000);
      return;
    }
    render();
    if (typeof WebSocket === 'undefined') {
      stopPolling = startPolling(saleId, dispatch, (st) => setConnection(st));
      return;
    }
    socket = new QueueSocket({
      url: async () => queueSocketUrl(location, saleId, session.token ?? '', await powParams(saleId, session.userId ?? '', sale.powDifficulty ?? 0)),
      onMessage: (raw) => {
        if (!raw || typeof raw !== 'object' || typeof (raw as { type?: unknown }).type !== 'string') return;
        const msg = raw as ServerMessage & { difficulty?: number };
        if (msg.type === 'error' && msg.code === 'pow_required') return void answerPow(msg.difficulty ?? sale.powDifficulty ?? 0);
        // Said just before the matching close (4001, 4000); the close handling shows it.
        if (msg.type === 'error' && (msg.code === 'replaced' || msg.code === 'queue_not_open')) return;
        if (msg.type === 'error' && msg.code === 'not_queued') return void onNotQueued();
        dispatch(msg);
      },
      onStatus: (st) => {
        setConnection(st);
        if (st.kind === 'open') authChecks = 0;
        if (st.kind === 'waiting' && st.attempt >= 2 && authChecks++ < 3) void checkAuth();
      },
      shouldReconnect: (code) => {
        if (code === CLOSE_REPLACED) {
          // Another tab or device took over this place: do not fight it; offer to continue here instead.
          dispatchLocal({ type: 'replaced' });
          return false;
        }
        return !isFinished(state) && !!session.token;
      },
    });
    socket.start();
  }

  /**
   * The server holds no place for this shopper: the admission was used or ran out, or the place was lost
   * after a long absence. After a reservation that is expected; otherwise join the line again.
   */
  function onNotQueued(): void {
    if (PAY_PHASES.includes(state.phase) || state.phase === 'reserving') return;
    if (state.phase === 'admitted') return dispatchLocal({ type: 'admission_expired' });
    if (state.phase === 'expired') return;
    state = { ...state, ticket: undefined, position: undefined, startPosition: undefined, serving: undefined };
    void answerPow(sale.powDifficulty ?? 0);
  }

  /** The sale asks for more work than the page did (difficulty raised): solve and join on the open socket. */
  async function answerPow(difficulty: number): Promise<void> {
    const params = await powParams(saleId, session.userId ?? '', difficulty);
    socket?.send(params.pow ? { type: 'join', pow: params.pow } : { type: 'join' });
  }

  function stop(): void {
    if (openTimer) clearTimeout(openTimer);
    openTimer = null;
    socket?.stop();
    socket = null;
    stopPolling?.();
    stopPolling = null;
    setConnection(null);
  }

  function restart(): void {
    stop();
    begin();
  }

  // Countdowns tick every second; the admission window ends on its own.
  setInterval(() => {
    if ((state.phase === 'admitted' || state.phase === 'reserving') && state.admissionExpiresAt && Date.parse(state.admissionExpiresAt) <= Date.now()) {
      dispatchLocal({ type: 'admission_expired' });
    }
    if (state.phase === 'reserved' && state.reservation && Date.parse(state.reservation.expiresAt) <= Date.now()) dispatchLocal({ type: 'hold_expired' });
    view.update(state, Date.now());
    if (connection?.kind === 'waiting') view.setConnection(connection, !!session.token);
  }, 1000);
  addEventListener('online', () => socket?.reconnectNow());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') socket?.reconnectNow();
  });

  render();
  if (state.phase === 'closed') return;
  if (session.token) begin();
  else view.showSignIn();
}

void main();
