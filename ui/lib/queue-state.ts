/**
 * The shopper queue page's state, as a pure reducer over server messages and local events. No DOM here, so
 * it is unit-tested in Node (queue-state.test.ts) and the page only renders what this decides.
 *
 * Server messages (WS /ws/sales/:id, see docs/waiting-room.md):
 *   queued   {ticket, position, etaSeconds}     on join and on every (re)connect
 *   position {position?, etaSeconds?, serving?, perSecond?, nextRefreshMs?} the broadcast form carries
 *                                                `serving` (the client derives its position from its ticket);
 *                                                far back in line it comes every few seconds (nextRefreshMs), and
 *                                                the page interpolates in between (`shownPosition`, `shownEta`)
 *   admitted {admissionToken, expiresAt}
 *   sold_out {final}                             final=false while holds may still return stock
 *   closed   {}
 *   order    {orderId, status}
 *   error    {code, message}
 */
export interface SaleView {
  id: string;
  productId: string;
  name: string;
  priceCents: number;
  startsAt: string;
  endsAt: string;
  status: 'scheduled' | 'open' | 'closed' | 'cancelled';
  remaining: number;
  /** When the line starts taking joins (default startsAt - 10 min). */
  queueOpensAt?: string;
  /** Proof-of-work difficulty on join (leading zero bits; 0 = none). */
  powDifficulty?: number;
  waitingRoom?: boolean;
}

export interface Reservation {
  reservationId: string;
  quantity: number;
  expiresAt: string;
}

export type Phase =
  | 'early' // the line does not take joins yet (before queueOpensAt)
  | 'connecting' // no queue place known yet
  | 'queued'
  | 'admitted'
  | 'reserving'
  | 'reserved'
  | 'expired' // the admission window ended unused
  | 'replaced' // another tab or device follows this place now
  | 'sold_out'
  | 'closed';

export interface QueueState {
  phase: Phase;
  /** Undefined while queued before the start (the shuffle hands out tickets). */
  ticket?: number;
  /** Places until the shopper's turn: 1 = next. */
  position?: number;
  /** The first position seen for this ticket: the progress bar runs from it to 0. */
  startPosition?: number;
  etaSeconds?: number;
  /** Highest serving position broadcast so far (used with `ticket` when ticks carry `serving`). */
  serving?: number;
  /**
   * What the page interpolates from between refreshes: the serving position it last heard (or worked out),
   * the rate, when it heard it (local clock, ms) and how far ahead it may extrapolate (ms).
   */
  anchor?: { serving: number; perSecond: number; at: number; horizonMs: number };
  admissionToken?: string;
  admissionExpiresAt?: string;
  /** Set by sold_out; false while outstanding holds may still free units. */
  soldOutFinal?: boolean;
  reservation?: Reservation;
  order?: { orderId: string; status: string };
  /** The server said the sale has closed (nothing more will come on the socket). */
  saleClosed?: boolean;
  /** A short, human message about the last problem (server error, reservation refused). */
  notice?: string;
}

export type ServerMessage =
  | { type: 'queued'; ticket: number | null; position: number | null; etaSeconds?: number | null }
  | { type: 'position'; position?: number | null; etaSeconds?: number | null; serving?: number; perSecond?: number; nextRefreshMs?: number }
  | { type: 'admitted'; admissionToken: string; expiresAt: string }
  | { type: 'sold_out'; final?: boolean }
  | { type: 'closed' }
  | { type: 'order'; orderId: string; status: string }
  | { type: 'error'; code: string; message: string };

export const initialState: QueueState = { phase: 'connecting' };

/** Terminal phases: nothing more will happen on this socket, so the page stops reconnecting. */
export function isFinished(s: QueueState): boolean {
  return s.saleClosed === true || s.phase === 'closed' || (s.phase === 'sold_out' && s.soldOutFinal === true);
}

const finite = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n);

/** A position that never goes up for the same ticket. */
function lower(prev: number | undefined, next: number): number {
  return prev === undefined ? next : Math.min(prev, next);
}

function withPosition(s: QueueState, position: number, etaSeconds: number | null | undefined): QueueState {
  const p = Math.max(0, lower(s.position, position));
  return {
    ...s,
    position: p,
    startPosition: Math.max(s.startPosition ?? 0, p),
    etaSeconds: finite(etaSeconds) ? Math.max(0, etaSeconds) : s.etaSeconds,
  };
}

/** How far past its last refresh the page extrapolates when the server did not say (older servers: every tick). */
const DEFAULT_HORIZON_MS = 5000;

/**
 * The position to show at `now`: the last one heard, moved on by the measured rate since then (up to the
 * next refresh the server promised), never above the last one shown and never below 1 (only the server
 * admits).
 */
export function shownPosition(s: QueueState, now: number): number | undefined {
  const a = s.anchor;
  if (s.position === undefined || s.ticket === undefined || !a || a.perSecond <= 0 || s.phase !== 'queued') return s.position;
  const elapsed = Math.max(0, Math.min(now - a.at, a.horizonMs));
  const estimate = Math.max(1, s.ticket - Math.floor(a.serving + (a.perSecond * elapsed) / 1000));
  return Math.min(s.position, estimate);
}

/** The ETA to show at `now`: from the shown position and the rate when there is one, else as last heard. */
export function shownEta(s: QueueState, now: number): number | undefined {
  const p = shownPosition(s, now);
  if (p !== undefined && s.anchor && s.anchor.perSecond > 0 && s.phase === 'queued') return Math.ceil(p / s.anchor.perSecond);
  return s.etaSeconds;
}

/**
 * Applies a server message. `now` (local clock) anchors the interpolation; what was shown until now is
 * folded into the position first, so a refresh that comes in behind the estimate never moves the shopper
 * back: the page holds until the estimate from the new refresh passes it.
 */
export function applyMessage(s: QueueState, msg: ServerMessage, now: number = Date.now()): QueueState {
  if (s.phase === 'closed') return s;
  const shown = (msg.type === 'position' || msg.type === 'queued') && s.anchor ? shownPosition(s, now) : s.position;
  const folded = shown === s.position ? s : { ...s, position: shown };
  const next = applyServer(folded, msg);
  return next === folded ? s : withAnchor(next, msg, now);
}

/** Sets the interpolation anchor from a message that tells the position (with a rate, or position / ETA). */
function withAnchor(s: QueueState, msg: ServerMessage, now: number): QueueState {
  if (s.ticket === undefined || s.position === undefined) return s;
  if (msg.type === 'position' && finite(msg.serving) && finite(msg.perSecond)) {
    const horizonMs = finite(msg.nextRefreshMs) && msg.nextRefreshMs > 0 ? msg.nextRefreshMs : DEFAULT_HORIZON_MS;
    return { ...s, anchor: { serving: s.serving ?? msg.serving, perSecond: msg.perSecond, at: now, horizonMs } };
  }
  if ((msg.type === 'position' || msg.type === 'queued') && finite(msg.position) && finite(msg.etaSeconds) && msg.etaSeconds > 0) {
    // no rate in the message: position / ETA (ETA is rounded up, so this errs slow)
    return { ...s, anchor: { serving: s.ticket - msg.position, perSecond: msg.position / msg.etaSeconds, at: now, horizonMs: DEFAULT_HORIZON_MS } };
  }
  return s;
}

function applyServer(s: QueueState, msg: ServerMessage): QueueState {
  switch (msg.type) {
    case 'queued': {
      // Before the start everyone who joined waits for the shuffle: a place, but no ticket yet.
      if (msg.ticket === null && (s.phase === 'connecting' || s.phase === 'queued')) {
        return { ...s, phase: 'queued', ticket: undefined, position: undefined, startPosition: undefined, etaSeconds: undefined };
      }
      if (!finite(msg.ticket) || !finite(msg.position)) return s;
      // A new ticket (the old place was lost after the grace period) restarts the progress bar.
      const base: QueueState = s.ticket === msg.ticket ? s : { ...s, position: undefined, startPosition: undefined };
      const next = withPosition({ ...base, ticket: msg.ticket }, msg.position, msg.etaSeconds);
      const keep = s.phase === 'admitted' || s.phase === 'reserving' || s.phase === 'reserved' || s.phase === 'sold_out';
      return keep ? next : { ...next, phase: 'queued' };
    }
    case 'position': {
      let position: number | null | undefined = msg.position;
      let eta = msg.etaSeconds;
      if (!finite(position) && finite(msg.serving)) {
        // The per-tick broadcast: the same bytes for everyone; the position follows from the ticket.
        if (s.ticket === undefined) return s;
        const serving = Math.max(s.serving ?? 0, msg.serving);
        position = Math.max(1, s.ticket - serving); // 1 = next, as the server counts
        if (finite(msg.perSecond)) eta = msg.perSecond > 0 ? Math.ceil(position / msg.perSecond) : undefined;
        s = { ...s, serving };
      }
      if (!finite(position)) return s;
      const next = withPosition(s, position, eta);
      // Admission resumed after a non-final sold-out: back in line.
      if (s.phase === 'sold_out' && !s.soldOutFinal) return { ...next, phase: 'queued', soldOutFinal: undefined };
      return s.phase === 'connecting' ? { ...next, phase: 'queued' } : next;
    }
    case 'admitted':
      if (typeof msg.admissionToken !== 'string' || typeof msg.expiresAt !== 'string') return s;
      if (s.phase === 'reserved' || s.phase === 'reserving') return s;
      return { ...s, phase: 'admitted', admissionToken: msg.admissionToken, admissionExpiresAt: msg.expiresAt, position: 0, notice: undefined };
    case 'sold_out': {
      const final = msg.final === true;
      // An admitted shopper keeps the Reserve button while holds may come back; a final sell-out ends it.
      if (s.phase === 'reserved' || s.phase === 'reserving') return { ...s, soldOutFinal: final };
      if (s.phase === 'admitted' && !final) return { ...s, soldOutFinal: false };
      return { ...s, phase: 'sold_out', soldOutFinal: final };
    }
    case 'closed':
      // A shopper with a hold keeps the confirmation on screen; everyone else sees the sale has ended.
      return s.phase === 'reserved' ? { ...s, saleClosed: true } : { ...s, phase: 'closed', saleClosed: true };
    case 'order':
      return { ...s, order: { orderId: String(msg.orderId), status: String(msg.status) } };
    case 'error':
      return { ...s, notice: String(msg.message ?? msg.code ?? 'error') };
    default:
      return s;
  }
}

/** Local events: the reservation call and the admission window running out. */
export type LocalEvent =
  | { type: 'reserve_started' }
  | { type: 'reserved'; reservation: Reservation }
  | { type: 'reserve_failed'; code: string; message: string }
  | { type: 'admission_expired' }
  | { type: 'replaced' };

export function applyLocal(s: QueueState, ev: LocalEvent): QueueState {
  switch (ev.type) {
    case 'reserve_started':
      return s.phase === 'admitted' ? { ...s, phase: 'reserving', notice: undefined } : s;
    case 'reserved':
      return { ...s, phase: 'reserved', reservation: ev.reservation, notice: undefined };
    case 'reserve_failed':
      if (ev.code === 'sold_out') return { ...s, phase: 'sold_out', soldOutFinal: s.soldOutFinal ?? false, notice: ev.message };
      if (ev.code === 'not_admitted') return { ...s, phase: 'expired', admissionToken: undefined, notice: ev.message };
      if (ev.code === 'sale_not_open') return { ...s, phase: 'admitted', notice: 'The sale is not open yet.' };
      return { ...s, phase: 'admitted', notice: ev.message };
    case 'admission_expired':
      return s.phase === 'admitted' ? { ...s, phase: 'expired', admissionToken: undefined } : s;
    case 'replaced':
      return s.phase === 'queued' || s.phase === 'connecting' ? { ...s, phase: 'replaced' } : s;
  }
}

/** Progress from the first position seen (0) to the head of the line (1), at `now` (interpolated). */
export function progress(s: QueueState, now?: number): number {
  if (s.phase === 'admitted' || s.phase === 'reserving' || s.phase === 'reserved') return 1;
  const p = now === undefined ? s.position : shownPosition(s, now);
  if (p === undefined || !s.startPosition) return 0;
  return Math.min(1, Math.max(0, 1 - p / s.startPosition));
}

/** "1 h 05 min", "4 min 10 s", "12 s". */
export function formatDuration(seconds: number): string {
  const t = Math.max(0, Math.round(seconds));
  const d = Math.floor(t / 86400);
  const h = Math.floor((t % 86400) / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
  if (m > 0) return `${m} min ${String(sec).padStart(2, '0')} s`;
  return `${sec} s`;
}
