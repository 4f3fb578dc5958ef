/**
 * Payments sit behind this one interface. The default implementation talks HTTP to the bundled PSP
 * simulator (settlement/psp); a real PSP would implement the same interface.
 *
 * Semantics are Stripe-like: `idempotencyKey` is required, and the same key always returns the same
 * result, so a retried charge never charges twice.
 */
export type PaymentMethod = 'pm_card_ok' | 'pm_card_declined' | 'pm_card_timeout' | 'pm_card_flaky' | (string & {});

export interface ChargeRequest {
  idempotencyKey: string;
  amountCents: number;
  currency?: string;
  paymentMethod: PaymentMethod;
  /** Free-form references stored with the charge (order id, reservation id, user id). */
  metadata?: Record<string, string>;
}

export type ChargeStatus = 'succeeded' | 'declined';

export interface Charge {
  id: string;
  idempotencyKey: string;
  status: ChargeStatus;
  amountCents: number;
  currency?: string;
  /** True once the charge was refunded (a compensation ran). */
  refunded?: boolean;
  createdAt: string;
}

/** Thrown when the PSP did not answer in time or was unreachable: the outcome is unknown. */
export class PaymentTimeoutError extends Error {
  constructor(message = 'payment provider did not answer in time') {
    super(message);
  }
}

/**
 * The PSP refused the request itself (the outcome is known: nothing happened), e.g. an idempotency key
 * reused with a different amount (`idempotency_conflict`), a malformed request, an unknown charge.
 * Retrying the same request cannot help.
 */
export class PaymentRequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface PaymentProvider {
  /** Charges once per idempotency key; throws PaymentTimeoutError when the outcome is unknown. */
  charge(req: ChargeRequest): Promise<Charge>;
  /** Looks a charge up by its idempotency key (null if the PSP never saw it). */
  findByKey(idempotencyKey: string): Promise<Charge | null>;
  /** Refunds a succeeded charge, idempotently (compensation). */
  refund(chargeId: string, idempotencyKey: string): Promise<void>;
  /** Releases connections (optional). */
  close?(): Promise<void>;
}
