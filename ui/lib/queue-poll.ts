import { api, ApiError } from './api.js';
import type { ServerMessage } from './queue-state.js';
import type { SocketStatus } from './queue-socket.js';

/**
 * The HTTP fallback for browsers without WebSocket: POST /api/sales/:id/queue joins (202 {ticket, position,
 * etaSeconds}), then GET /api/sales/:id/queue is polled and each answer is turned into the message the
 * socket would have sent, so the page has one code path.
 */
interface QueueStatus {
  status: 'waiting' | 'admitted' | 'sold_out' | 'closed';
  position?: number;
  etaSeconds?: number;
  admissionToken?: string;
  admissionExpiresAt?: string;
}

export function toMessages(s: QueueStatus): ServerMessage[] {
  switch (s.status) {
    case 'waiting':
      return typeof s.position === 'number' ? [{ type: 'position', position: s.position, etaSeconds: s.etaSeconds }] : [];
    case 'admitted':
      return s.admissionToken && s.admissionExpiresAt ? [{ type: 'admitted', admissionToken: s.admissionToken, expiresAt: s.admissionExpiresAt }] : [];
    case 'sold_out':
      return [{ type: 'sold_out', final: false }];
    case 'closed':
      return [{ type: 'closed' }];
    default:
      return [];
  }
}

/** Polls every 3 s (10 s when far back in line); returns a stop function. */
export function startPolling(saleId: string, onMessage: (m: ServerMessage) => void, onStatus: (s: SocketStatus) => void): () => void {
  const path = `/api/sales/${encodeURIComponent(saleId)}/queue`;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let failures = 0;
  let admittedSent = false;

  const schedule = (ms: number) => {
    if (!stopped) timer = setTimeout(() => void poll(), ms);
  };

  async function join(): Promise<void> {
    onStatus({ kind: 'connecting', attempt: failures });
    try {
      const q = await api<{ ticket: number; position: number; etaSeconds: number }>('POST', path, {});
      failures = 0;
      onStatus({ kind: 'open' });
      onMessage({ type: 'queued', ticket: q.ticket, position: q.position, etaSeconds: q.etaSeconds });
      schedule(3000);
    } catch (err) {
      retry(err, join);
    }
  }

  async function poll(): Promise<void> {
    try {
      const s = await api<QueueStatus>('GET', path);
      failures = 0;
      onStatus({ kind: 'open' });
      for (const m of toMessages(s)) {
        if (m.type === 'admitted' && admittedSent) continue;
        if (m.type === 'admitted') admittedSent = true;
        onMessage(m);
      }
      if (s.status === 'closed') return;
      schedule(s.status === 'waiting' && (s.position ?? 0) > 1000 ? 10_000 : 3000);
    } catch (err) {
      // 404: no place any more (admission used or expired, or away past the grace period): join again.
      if (err instanceof ApiError && err.status === 404) return void join();
      retry(err, poll);
    }
  }

  function retry(err: unknown, again: () => Promise<void>): void {
    if (err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 429) {
      onMessage({ type: 'error', code: err.code, message: err.message });
      if (err.status === 401) return;
    }
    failures += 1;
    const delay = Math.min(30_000, 1000 * 2 ** failures);
    onStatus({ kind: 'waiting', attempt: failures, retryAt: Date.now() + delay, everOpened: true });
    if (!stopped) timer = setTimeout(() => void again(), delay);
  }

  void join();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
