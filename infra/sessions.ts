import type { Logger } from './logger.js';
import { publish, subscribe, type Redis } from './redis.js';

/**
 * Revoked shopper tokens, checked on every authenticated request without a Redis round trip.
 *
 * Each user token carries a session id (`sid`) and its issue time (`iat`, ms). Revocations live in Redis:
 *   <prefix>auth:revoked   zset  sid -> the token's expiry (ms): one token signed out
 *   <prefix>auth:epochs    hash  user id -> "<ms>:<sid kept>": every token of the user issued before <ms> is
 *                                void, except the one kept (the token that changed the password)
 * and every process keeps a copy in memory: loaded at start, updated by a message on
 * <prefix>auth:revocations for each new revocation, loaded again whenever the subscriber (re)connects and
 * every `reloadMs` as a safety net. The process that revokes updates its own copy before it answers, so a
 * token signed out on one gateway is refused there at once, and on the others as soon as the message
 * arrives (a millisecond or so). The check itself is one or two Map lookups.
 */
export interface SessionClaims {
  sub: string;
  sid?: unknown;
  iat?: unknown;
}

export class Sessions {
  private revoked = new Map<string, number>();
  private epochs = new Map<string, { at: number; keep: string }>();
  private readonly keys;
  private started = false;

  constructor(
    private redis: Redis,
    private newSubscriber: () => Redis,
    prefix: string,
    private log: Logger,
    /** Longest life of a user token (ms): older epochs can void nothing and are dropped. */
    private maxTokenMs: number,
    private reloadMs = 30_000,
  ) {
    this.keys = { revoked: `${prefix}auth:revoked`, epochs: `${prefix}auth:epochs`, channel: `${prefix}auth:revocations` };
  }

  /** True when the token these claims come from was signed out (alone or with all of its user's tokens). */
  isRevoked(c: SessionClaims): boolean {
    if (this.revoked.size > 0 && typeof c.sid === 'string' && this.revoked.has(c.sid)) return true;
    if (this.epochs.size > 0) {
      const epoch = this.epochs.get(c.sub);
      if (epoch && (typeof c.iat === 'number' ? c.iat : 0) < epoch.at && c.sid !== epoch.keep) return true;
    }
    return false;
  }

  /** Signs one token out (until it would have expired anyway). */
  async revokeToken(sid: string, expMs: number): Promise<void> {
    this.revoked.set(sid, expMs);
    await this.redis.zadd(this.keys.revoked, expMs, sid);
    await publish(this.redis, this.keys.channel, `s ${sid} ${expMs}`);
  }

  /** Signs out every token of a user issued until now, except the one with session id `keep`. */
  async revokeUser(userId: string, keep = ''): Promise<void> {
    const at = Date.now() + 1; // a token issued in this very millisecond is void too
    this.epochs.set(userId, { at, keep });
    await this.redis.hset(this.keys.epochs, userId, `${at}:${keep}`);
    await publish(this.redis, this.keys.channel, `u ${userId} ${at}:${keep}`);
  }

  /** Loads the revocations and follows new ones; resolves (to the stop function) once loaded. */
  async start(): Promise<() => Promise<void>> {
    if (this.started) return async () => {};
    this.started = true;
    const sub = this.newSubscriber();
    sub.on('ready', () => void this.reload().catch((err) => this.log.warn({ err }, 'could not reload token revocations')));
    await subscribe(sub, [this.keys.channel], (_channel, message) => this.apply(message));
    await this.reload();
    const timer = setInterval(() => void this.reload().catch((err) => this.log.warn({ err }, 'could not reload token revocations')), this.reloadMs);
    timer.unref();
    return async () => {
      clearInterval(timer);
      this.started = false;
      await sub.quit().catch(() => sub.disconnect());
    };
  }

  private apply(message: string): void {
    const [kind, id, value] = message.split(' ');
    if (kind === 's') this.revoked.set(id, Number(value));
    else if (kind === 'u') this.epochs.set(id, parseEpoch(value));
  }

  /** Reads every live revocation from Redis (dropping the expired ones there too). */
  async reload(): Promise<void> {
    const now = Date.now();
    await this.redis.zremrangebyscore(this.keys.revoked, '-inf', String(now));
    const [sids, epochs] = await Promise.all([this.redis.zrange(this.keys.revoked, '0', '-1', 'WITHSCORES'), this.redis.hgetall(this.keys.epochs)]);
    const revoked = new Map<string, number>();
    for (let i = 0; i < sids.length; i += 2) revoked.set(sids[i], Number(sids[i + 1]));
    const byUser = new Map<string, { at: number; keep: string }>();
    const stale: string[] = [];
    for (const [userId, value] of Object.entries(epochs)) {
      const epoch = parseEpoch(value);
      if (epoch.at + this.maxTokenMs < now) stale.push(userId);
      else byUser.set(userId, epoch);
    }
    if (stale.length) await this.redis.hdel(this.keys.epochs, ...stale);
    // Revocations made by this process while the load ran are kept (they are in Redis already or on their way).
    for (const [sid, exp] of this.revoked) if (exp > now && !revoked.has(sid)) revoked.set(sid, exp);
    for (const [userId, epoch] of this.epochs) if ((byUser.get(userId)?.at ?? 0) < epoch.at) byUser.set(userId, epoch);
    this.revoked = revoked;
    this.epochs = byUser;
  }
}

function parseEpoch(value: string): { at: number; keep: string } {
  const colon = value.indexOf(':');
  return { at: Number(value.slice(0, colon)), keep: value.slice(colon + 1) };
}
