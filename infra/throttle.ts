import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Context } from './context.js';
import { tooManyRequests } from './errors.js';
import type { Redis } from './redis.js';

/**
 * Rate limits of the sign-in, sign-up and anonymous-cart routes, kept in Redis (rate-limiter-flexible), so
 * every gateway counts together. Failed sign-ins count three ways:
 *   - per account and address: 10 failures in 15 min block that pair for 15 min (the attacker's own pair);
 *   - per address: 50 failures in 15 min, whatever the accounts (credential stuffing from one host);
 *   - per account: 200 failures an hour from anywhere. Much looser on purpose: a victim signing in from
 *     their own address is not locked out by someone else guessing, until a flood from many addresses.
 * A successful sign-in clears its account-and-address count. A blocked caller gets 429 with Retry-After,
 * checked before the password is: a flood costs no scrypt.
 */
export interface Limit {
  points: number;
  durationSeconds: number;
  blockSeconds?: number;
}

export interface ThrottleLimits {
  loginAccountIp: Limit;
  loginIp: Limit;
  loginAccount: Limit;
  registerIp: Limit;
  anonCartIp: Limit;
}

export const defaultThrottleLimits = (config: Context['config']): ThrottleLimits => ({
  loginAccountIp: { points: 10, durationSeconds: 15 * 60, blockSeconds: 15 * 60 },
  loginIp: { points: 50, durationSeconds: 15 * 60 },
  loginAccount: { points: 200, durationSeconds: 3600 },
  registerIp: { points: config.registerPerIpPerHour, durationSeconds: 3600 },
  anonCartIp: { points: config.anonCartsPerIpPerHour, durationSeconds: 3600 },
});

export class Throttle {
  private readonly client: Redis;
  private readonly limiters: Record<keyof ThrottleLimits, RateLimiterRedis>;

  constructor(ctx: Context, limits: ThrottleLimits = defaultThrottleLimits(ctx.config)) {
    // Its own connection: the library defines a Lua command on the client, which ioredis's auto-pipelines
    // on the shared command connection would not carry once opened.
    this.client = ctx.newRedis('plain');
    const make = (name: string, l: Limit) =>
      new RateLimiterRedis({
        storeClient: this.client,
        keyPrefix: `${ctx.config.redisPrefix}rl:${name}`,
        points: l.points,
        duration: l.durationSeconds,
        blockDuration: l.blockSeconds ?? 0,
      });
    this.limiters = {
      loginAccountIp: make('login-acct-ip', limits.loginAccountIp),
      loginIp: make('login-ip', limits.loginIp),
      loginAccount: make('login-acct', limits.loginAccount),
      registerIp: make('register-ip', limits.registerIp),
      anonCartIp: make('anon-cart-ip', limits.anonCartIp),
    };
  }

  /** 429 when any of the caller's sign-in counts is used up (nothing is counted). */
  async checkLogin(email: string, ip: string): Promise<void> {
    const l = this.limiters;
    const keys = loginKeys(email, ip);
    const [pair, byIp, byAccount] = await Promise.all([l.loginAccountIp.get(keys.pair), l.loginIp.get(keys.ip), l.loginAccount.get(keys.account)]);
    const wait = Math.max(blockedFor(pair, l.loginAccountIp), blockedFor(byIp, l.loginIp), blockedFor(byAccount, l.loginAccount));
    if (wait > 0) throw tooManyRequests('too many failed sign-ins; try again later', wait);
  }

  /** Counts a failed sign-in; 429 when this failure used up a count. */
  async loginFailed(email: string, ip: string): Promise<void> {
    const l = this.limiters;
    const keys = loginKeys(email, ip);
    const results = await Promise.allSettled([l.loginAccountIp.consume(keys.pair), l.loginIp.consume(keys.ip), l.loginAccount.consume(keys.account)]);
    let wait = 0;
    for (const r of results) {
      if (r.status === 'fulfilled') continue;
      if (!(r.reason instanceof RateLimiterRes)) throw r.reason;
      wait = Math.max(wait, r.reason.msBeforeNext);
    }
    if (wait > 0) throw tooManyRequests('too many failed sign-ins; try again later', wait);
  }

  async loginSucceeded(email: string, ip: string): Promise<void> {
    await this.limiters.loginAccountIp.delete(loginKeys(email, ip).pair);
  }

  /** Counts one account created from `ip`; 429 past the hourly limit. */
  register(ip: string): Promise<void> {
    return this.take(this.limiters.registerIp, ip, 'too many accounts created from this address; try again later');
  }

  /** Counts one anonymous cart created from `ip`; 429 past the hourly limit. */
  anonCart(ip: string): Promise<void> {
    return this.take(this.limiters.anonCartIp, ip, 'too many new carts from this address; sign in or try again later');
  }

  private async take(limiter: RateLimiterRedis, key: string, message: string): Promise<void> {
    try {
      await limiter.consume(key);
    } catch (err) {
      if (err instanceof RateLimiterRes) throw tooManyRequests(message, err.msBeforeNext);
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}

function loginKeys(email: string, ip: string) {
  const account = email.trim().toLowerCase();
  return { pair: `${account}|${ip}`, ip, account };
}

/** How long (ms) a count that is used up still blocks; 0 when it does not. */
function blockedFor(res: RateLimiterRes | null, limiter: RateLimiterRedis): number {
  if (!res || res.consumedPoints < limiter.points) return 0;
  return res.msBeforeNext;
}
