import type { PspStore } from './store.js';

/**
 * Counters for tests and load runs. Charge and refund counts come from the durable store (so they survive a
 * restart); request and attempt counts are since this process started.
 */
export class PspStats {
  readonly startedAt = new Date().toISOString();
  readonly requests = { charge: 0, lookup: 0, refund: 0 };
  injectedFailures = 0;
  private readonly attempts = new Map<string, number>();

  constructor(private readonly store: PspStore) {}

  attempt(key: string): void {
    this.requests.charge++;
    this.attempts.set(key, (this.attempts.get(key) ?? 0) + 1);
  }

  attemptsFor(key: string): number {
    return this.attempts.get(key) ?? 0;
  }

  toJSON(opts: { key?: string; perKey?: boolean } = {}) {
    let maxPerKey = 0;
    for (const n of this.attempts.values()) if (n > maxPerKey) maxPerKey = n;
    const { succeeded, declined, refunded } = this.store.counts;
    const charge = opts.key === undefined ? undefined : this.store.chargeByKey(opts.key);
    return {
      startedAt: this.startedAt,
      charges: { created: this.store.chargeCount, succeeded, declined, refunded },
      refunds: this.store.refundCount,
      requests: { ...this.requests },
      attempts: { keys: this.attempts.size, total: this.requests.charge, maxPerKey },
      injectedFailures: this.injectedFailures,
      ...(opts.key === undefined
        ? {}
        : { key: { idempotencyKey: opts.key, attempts: this.attemptsFor(opts.key), chargeId: charge?.id ?? null, status: charge?.status ?? null } }),
      ...(opts.perKey ? { attemptsByKey: Object.fromEntries(this.attempts) } : {}),
    };
  }
}
