/**
 * Liveness pings for the queue sockets, sent by us instead of uWS (`sendPingsAutomatically: false`).
 *
 * uWS pings a socket after `idleTimeout / 2` seconds without traffic from it, from a timer that runs every
 * 4 s: a gateway's sockets, which joined within seconds of each other and then only answer pings, are
 * pinged in bursts of a quarter of them (4,500 of 18,000) every 4 s. A tick broadcast that meets such a
 * burst reaches its last clients 60-100 ms later (bench:queue). Here every open socket is pinged once per
 * `everyMs`, in small slices, and the slices wait while a broadcast is going out (`quietMs` after the last
 * one), up to `maxDeferMs`. uWS still closes a socket that sent nothing for `idleTimeout` seconds; a
 * client's pong is traffic, so a live client stays open and a dead one is closed within `idleTimeout`.
 */
export interface Pingable {
  ping(message?: string): number;
}

export interface PingerOptions {
  /** Each socket is pinged once per this period (ms). Must stay well under uWS's idleTimeout. */
  everyMs: number;
  /** How often a slice goes out (ms). */
  stepMs: number;
  /** After a broadcast, slices wait this long (ms): the fan-out has the CPU. */
  quietMs: number;
  /** Slices never wait longer than this (ms), so pings keep up when broadcasts never stop. */
  maxDeferMs: number;
}

export const PING_DEFAULTS: PingerOptions = { everyMs: 16_000, stepMs: 100, quietMs: 500, maxDeferMs: 2000 };

export class Pinger<S extends Pingable> {
  private readonly sockets = new Set<S>();
  private cursor: Iterator<S> = this.sockets.values();
  /** Pings due but not sent yet (fractional). */
  private owed = 0;
  private lastBroadcast = -Infinity;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: PingerOptions = PING_DEFAULTS) {}

  add(ws: S): void {
    this.sockets.add(ws);
  }

  delete(ws: S): void {
    this.sockets.delete(ws);
  }

  get size(): number {
    return this.sockets.size;
  }

  /** A broadcast is going out now: hold the pings for `quietMs`. */
  noteBroadcast(now = Date.now()): void {
    this.lastBroadcast = now;
  }

  /** One slice: returns how many sockets were pinged. */
  step(now = Date.now()): number {
    const n = this.sockets.size;
    if (n === 0) {
      this.owed = 0;
      return 0;
    }
    this.owed = Math.min(n, this.owed + (n * this.opts.stepMs) / this.opts.everyMs);
    const quiet = now - this.lastBroadcast >= this.opts.quietMs;
    const overdue = this.owed >= (n * this.opts.maxDeferMs) / this.opts.everyMs;
    if (!quiet && !overdue) return 0;
    let sent = 0;
    let wrapped = false;
    while (this.owed >= 1) {
      const next = this.cursor.next();
      if (next.done) {
        // a live Set iterator ends once; start the next round from the top (at most once per slice)
        if (wrapped) break;
        wrapped = true;
        this.cursor = this.sockets.values();
        continue;
      }
      next.value.ping();
      this.owed -= 1;
      sent += 1;
    }
    return sent;
  }

  start(): void {
    this.timer = setInterval(() => this.step(), this.opts.stepMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
