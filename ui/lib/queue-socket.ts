/**
 * A WebSocket to the waiting room that reconnects by itself, with capped exponential backoff and jitter
 * (so a gateway restart does not bring 50,000 phones back in the same millisecond). The server keeps the
 * shopper's place across reconnects (same ticket), so reconnecting is always safe.
 */
export interface BackoffOptions {
  baseMs?: number;
  maxMs?: number;
  random?: () => number;
}

/** "Equal jitter": half the capped exponential delay, plus a random share of the other half. */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}): number {
  const base = opts.baseMs ?? 500;
  const max = opts.maxMs ?? 15_000;
  const random = opts.random ?? Math.random;
  const cap = Math.min(max, base * 2 ** Math.min(attempt, 20));
  return Math.round(cap / 2 + random() * (cap / 2));
}

export type SocketStatus =
  | { kind: 'connecting'; attempt: number }
  | { kind: 'open' }
  | { kind: 'waiting'; attempt: number; retryAt: number; everOpened: boolean }
  | { kind: 'stopped' };

export interface QueueSocketOptions {
  /** Built on every attempt, so a refreshed token or proof-of-work nonce is used. */
  url: () => string | Promise<string>;
  onMessage: (msg: unknown) => void;
  onStatus: (status: SocketStatus) => void;
  /** Asked after every close, with its code; false ends the loop (sale closed, place taken by another tab). */
  shouldReconnect: (closeCode: number) => boolean;
  backoff?: BackoffOptions;
}

export class QueueSocket {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private everOpened = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(private readonly opts: QueueSocketOptions) {}

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000, 'bye');
    this.opts.onStatus({ kind: 'stopped' });
  }

  /** Skips the wait (the tab became visible, the network came back). */
  reconnectNow(): void {
    if (this.stopped || this.ws || !this.timer) return;
    clearTimeout(this.timer);
    this.timer = null;
    void this.connect();
  }

  send(data: unknown): boolean {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(data));
    return true;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.opts.onStatus({ kind: 'connecting', attempt: this.attempt });
    let url: string;
    try {
      url = await this.opts.url();
    } catch {
      this.scheduleRetry();
      return;
    }
    if (this.stopped) return;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.everOpened = true;
      this.opts.onStatus({ kind: 'open' });
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      let msg: unknown;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      this.opts.onMessage(msg);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      if (!this.opts.shouldReconnect(ev.code)) {
        this.stopped = true;
        this.opts.onStatus({ kind: 'stopped' });
        return;
      }
      this.scheduleRetry();
    };
    // An error is always followed by close; the retry is scheduled there.
    ws.onerror = () => {};
  }

  private scheduleRetry(): void {
    const delay = backoffDelay(this.attempt, this.opts.backoff);
    this.attempt += 1;
    this.opts.onStatus({ kind: 'waiting', attempt: this.attempt, retryAt: Date.now() + delay, everOpened: this.everOpened });
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, delay);
  }
}

/** ws:// or wss:// URL of the queue socket for a sale, on the page's own host. */
export function queueSocketUrl(loc: Pick<Location, 'protocol' | 'host'>, saleId: string, token: string, extra: Record<string, string> = {}): string {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  const q = new URLSearchParams({ token, ...extra });
  return `${scheme}//${loc.host}/ws/sales/${encodeURIComponent(saleId)}?${q}`;
}
