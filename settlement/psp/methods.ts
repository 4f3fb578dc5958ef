import { createHash } from 'node:crypto';

/**
 * The simulator's deterministic test payment methods (Stripe's `pm_card_*` style). Every method decides the
 * charge's outcome; some also script how the HTTP exchange misbehaves:
 *
 * | method                | outcome   | the exchange                                                          |
 * |-----------------------|-----------|-----------------------------------------------------------------------|
 * | pm_card_ok            | succeeded | normal (also pm_card_visa, pm_card_mastercard)                        |
 * | pm_card_declined      | declined  | 402 with a `card_declined` body; recorded under the key               |
 * | pm_card_timeout       | succeeded | recorded at once, but every answer for the key is held until the      |
 * |                       |           | client gives up (disconnects), or `hangMs` passes                     |
 * | pm_card_flaky         | succeeded | the first attempt for a key fails; which way is fixed by the key:     |
 * |                       |           | `pm_card_flaky_503` or `pm_card_flaky_drop` below                     |
 * | pm_card_flaky_503     | succeeded | first attempt: 503, nothing charged; retries succeed                  |
 * | pm_card_flaky_drop    | succeeded | first attempt: charged, then the connection is dropped without an     |
 * |                       |           | answer; retries return that same charge                               |
 */
export interface Behaviour {
  outcome: 'succeeded' | 'declined';
  /** Hold every answer until the client disconnects (or hangMs). */
  hang?: boolean;
  /** How the first attempt for a key fails. */
  flaky?: 'error' | 'drop';
}

const fixed: Record<string, Behaviour> = {
  pm_card_ok: { outcome: 'succeeded' },
  pm_card_visa: { outcome: 'succeeded' },
  pm_card_mastercard: { outcome: 'succeeded' },
  pm_card_declined: { outcome: 'declined' },
  pm_card_timeout: { outcome: 'succeeded', hang: true },
  pm_card_flaky_503: { outcome: 'succeeded', flaky: 'error' },
  pm_card_flaky_drop: { outcome: 'succeeded', flaky: 'drop' },
};

export const PAYMENT_METHODS = [...Object.keys(fixed), 'pm_card_flaky'];

/** The behaviour of `method` for this idempotency key, or undefined for an unknown method. */
export function behaviourOf(method: string, key: string): Behaviour | undefined {
  if (method === 'pm_card_flaky') {
    const firstByte = createHash('sha1').update(key).digest()[0]!;
    return { outcome: 'succeeded', flaky: firstByte % 2 === 0 ? 'error' : 'drop' };
  }
  return fixed[method];
}

/** Latency: a fixed number of ms, or a uniform range. */
export type Latency = number | [min: number, max: number];

/** Parses PSP_LATENCY_MS: "0", "50" or "20-80". */
export function parseLatency(raw: string | number | undefined): Latency {
  if (raw === undefined || raw === '') return 0;
  if (typeof raw === 'number') return checkMs(raw, String(raw));
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:-\s*(\d+(?:\.\d+)?)\s*)?$/.exec(raw);
  if (!m) throw new Error(`PSP latency must be "<ms>" or "<min>-<max>", got "${raw}"`);
  const min = Number(m[1]);
  if (m[2] === undefined) return min;
  const max = Number(m[2]);
  if (max < min) throw new Error(`PSP latency range "${raw}" has max < min`);
  return min === max ? min : [min, max];
}

function checkMs(n: number, raw: string): number {
  if (!Number.isFinite(n) || n < 0) throw new Error(`PSP latency must be >= 0 ms, got "${raw}"`);
  return n;
}

export function pickLatency(latency: Latency): number {
  if (typeof latency === 'number') return latency;
  return latency[0] + Math.random() * (latency[1] - latency[0]);
}

export function parseFailureRate(raw: string | number | undefined): number {
  if (raw === undefined || raw === '') return 0;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new Error(`PSP failure rate must be between 0 and 1, got "${raw}"`);
  return n;
}
