import { Pool } from 'undici';
import type { Config } from '../infra/config.js';
import { PaymentRequestError, PaymentTimeoutError, type Charge, type ChargeRequest, type PaymentProvider } from './payments.js';

/**
 * The default PaymentProvider: HTTP to the bundled PSP simulator (settlement/psp), or to anything that speaks
 * its Stripe-like API.
 *
 * - One undici Pool of keep-alive connections to the PSP (`connections` at most), shared by all calls.
 * - Every call has one deadline (`timeoutMs`, from config.pspTimeoutMs) covering the wait for a free
 *   connection, the request and the whole answer.
 * - Outcome unknown -> PaymentTimeoutError: the deadline passed, the connection failed or was dropped, the
 *   PSP answered 5xx or 429, or the answer was unreadable. Retrying with the same key is always safe.
 * - A decline is an answer, not an error: `charge` resolves with status 'declined'.
 * - The PSP refusing the request (409 key reused with other parameters, 400, 404) -> PaymentRequestError.
 */
export interface HttpPaymentProviderOptions {
  url: string;
  timeoutMs?: number;
  /** Most keep-alive connections to the PSP. */
  connections?: number;
}

interface Answer {
  status: number;
  body: any;
}

export class HttpPaymentProvider implements PaymentProvider {
  private readonly pool: Pool;
  readonly timeoutMs: number;

  constructor(readonly opts: HttpPaymentProviderOptions) {
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.pool = new Pool(new URL(opts.url).origin, {
      connections: opts.connections ?? 256,
      pipelining: 1,
      keepAliveTimeout: 4_000,
      connectTimeout: this.timeoutMs,
      // These tear a hung exchange down (freeing the connection); the caller's deadline is the timer in call().
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
  }

  async charge(req: ChargeRequest): Promise<Charge> {
    const { status, body } = await this.call('POST', '/v1/charges', req.idempotencyKey, {
      amountCents: req.amountCents,
      currency: req.currency,
      paymentMethod: req.paymentMethod,
      metadata: req.metadata,
    });
    if (status === 200) return toCharge(body, 'charge');
    if (status === 402 && body?.error?.code === 'card_declined' && body.error.charge) return toCharge(body.error.charge, 'decline');
    throw this.failure(status, body, 'charge');
  }

  async findByKey(idempotencyKey: string): Promise<Charge | null> {
    const { status, body } = await this.call('GET', `/v1/charges?idempotencyKey=${encodeURIComponent(idempotencyKey)}`);
    if (status === 200) {
      if (!Array.isArray(body?.data)) throw new PaymentTimeoutError('PSP lookup answer has no data list');
      return body.data.length ? toCharge(body.data[0], 'lookup') : null;
    }
    throw this.failure(status, body, 'lookup');
  }

  async refund(chargeId: string, idempotencyKey: string): Promise<void> {
    const { status, body } = await this.call('POST', '/v1/refunds', idempotencyKey, { chargeId });
    if (status === 200) return;
    // Refunded before under another key: the compensation's goal is reached.
    if (status === 409 && body?.error?.code === 'charge_already_refunded') return;
    throw this.failure(status, body, 'refund');
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private failure(status: number, body: any, what: string): Error {
    const code: string = typeof body?.error?.code === 'string' ? body.error.code : `http_${status}`;
    const message = `PSP ${what}: ${status} ${body?.error?.message ?? ''}`.trim();
    if (status >= 500 || status === 429 || status < 400) return new PaymentTimeoutError(message);
    return new PaymentRequestError(code, message, status);
  }

  private async call(method: 'GET' | 'POST', path: string, idempotencyKey?: string, payload?: unknown): Promise<Answer> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
    let body: string | undefined;
    if (payload !== undefined) {
      body = JSON.stringify(payload);
      headers['content-type'] = 'application/json';
    }
    const what = `PSP ${method} ${path.split('?')[0]}`;
    // One deadline for the whole call, queueing for a connection included. A plain timer: AbortSignal.timeout
    // costs several times more CPU per call, which shows at thousands of charges per second.
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PaymentTimeoutError(`${what}: no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    const exchange = (async (): Promise<Answer> => {
      const res = await this.pool.request({ method, path, headers, body });
      const text = await res.body.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: res.statusCode, body: parsed };
    })();
    try {
      return await Promise.race([exchange, deadline]);
    } catch (err) {
      if (err instanceof PaymentTimeoutError) {
        exchange.catch(() => {}); // it may still fail later; nobody is waiting for it
        throw err;
      }
      throw Object.assign(new PaymentTimeoutError(`${what}: ${(err as Error).message || String(err)}`), { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }
}

function toCharge(raw: any, what: string): Charge {
  if (!raw || typeof raw.id !== 'string' || (raw.status !== 'succeeded' && raw.status !== 'declined') || typeof raw.amountCents !== 'number') {
    throw new PaymentTimeoutError(`PSP ${what}: unreadable charge in the answer`);
  }
  return {
    id: raw.id,
    idempotencyKey: raw.idempotencyKey,
    status: raw.status,
    amountCents: raw.amountCents,
    currency: raw.currency,
    refunded: raw.refunded === true,
    createdAt: raw.createdAt,
  };
}

/** The configured payment provider: HTTP to config.pspUrl, or to the bundled simulator on config.pspPort. */
export function createPaymentProvider(config: Pick<Config, 'pspUrl' | 'pspPort' | 'pspTimeoutMs'>): HttpPaymentProvider {
  return new HttpPaymentProvider({
    url: config.pspUrl ?? `http://127.0.0.1:${config.pspPort}`,
    timeoutMs: config.pspTimeoutMs,
  });
}
