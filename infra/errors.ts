/**
 * Every error a client can see: one code, one HTTP status, kept in this one table.
 * The wire shape is {"error":{"code","message"}} (plus `field` for validation errors).
 */
export const errorStatus = {
  invalid_request: 400,
  weak_password: 400,
  unauthorized: 401,
  not_admitted: 403,
  pow_required: 403,
  account_too_new: 403,
  ip_limit_reached: 403,
  not_found: 404,
  conflict: 409,
  sold_out: 409,
  limit_reached: 409,
  sale_not_open: 409,
  sale_closed: 409,
  queue_not_open: 409,
  no_waiting_room: 409,
  hold_expired: 409,
  idempotency_conflict: 409,
  invalid_state: 409,
  out_of_stock: 409,
  email_taken: 409,
  checkout_in_progress: 409,
  payment_declined: 402,
  payload_too_large: 413,
  too_many_requests: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export class AppError extends Error {
  readonly status: number;
  /** Seconds the client should wait before trying again (sent as `Retry-After`; with 429). */
  retryAfterSeconds?: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    // An AppError is an answer to the client, not a fault: its stack is never read, and capturing it was
    // most of its cost (~3.5 µs through a few async frames; a sold-out crowd gets one per request).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.status = errorStatus[code];
  }

  toJSON() {
    return { error: { code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}) } };
  }
}

export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
export const invalid = (field: string, message: string) => new AppError('invalid_request', `${field}: ${message}`, field);

/** 429 with a Retry-After of `ms` (rounded up to whole seconds, at least 1). */
export function tooManyRequests(message: string, ms: number): AppError {
  const err = new AppError('too_many_requests', message);
  err.retryAfterSeconds = Math.max(1, Math.ceil(ms / 1000));
  return err;
}
