import { ZodError } from 'zod';
import { AppError, invalid } from './errors.js';
import type { Logger } from './logger.js';

/**
 * What a route handler sees and answers, free of any HTTP server: a plain `Request` in, a `Reply` out.
 * gateway/http.ts adapts uWebSockets.js to these; every part's routes are written against them.
 */
export interface Request {
  method: string;
  path: string;
  query: URLSearchParams;
  params: Record<string, string>;
  /** The headers in the gateway's REQUEST_HEADERS that the request carries, by lower-case name. */
  headers: Record<string, string>;
  ip: string;
  /** Parsed JSON body (undefined when there is none). */
  body: unknown;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Raw body (for HTML, JS); sent as is with the given content-type header. */
  raw?: string | Buffer;
}

export type Handler = (req: Request) => Promise<Reply> | Reply;
export type Method = 'get' | 'post' | 'put' | 'del' | 'patch';

export interface Route {
  method: Method;
  path: string;
  handler: Handler;
}

/** The reply for an error: its own status for an AppError, 400 for a failed zod parse, else a logged 500. */
export function errorReply(err: unknown, log: Logger, req?: Pick<Request, 'method' | 'path'>): Reply {
  if (err instanceof AppError) {
    if (err.retryAfterSeconds !== undefined) return { status: err.status, body: err.toJSON(), headers: { 'retry-after': String(err.retryAfterSeconds) } };
    return { status: err.status, body: err.toJSON() };
  }
  if (err instanceof ZodError) {
    const issue = err.issues[0];
    const field = issue?.path.join('.') || 'body';
    return { status: 400, body: new AppError('invalid_request', `${field}: ${issue?.message ?? 'invalid'}`, field).toJSON() };
  }
  log.error({ err, method: req?.method, path: req?.path }, 'unexpected error');
  return { status: 500, body: new AppError('internal', 'internal error').toJSON() };
}

const ID = /^[1-9]\d{0,17}$/;

/**
 * A database id (a positive bigserial) from a path segment, or null when it cannot be one. Each route
 * decides what a null means for it (a 404 for a resource, a 400 for an argument).
 */
export function parseId(raw: string | undefined): string | null {
  return raw !== undefined && ID.test(raw) ? raw : null;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/**
 * The `Idempotency-Key` header: 1 to 200 visible ASCII characters. Required unless `optional` is set;
 * an absent optional key is undefined.
 */
export function idempotencyKey(req: Pick<Request, 'headers'>): string;
export function idempotencyKey(req: Pick<Request, 'headers'>, optional: 'optional'): string | undefined;
export function idempotencyKey(req: Pick<Request, 'headers'>, optional?: 'optional'): string | undefined {
  const key = req.headers['idempotency-key'];
  if (key === undefined || key === '') {
    if (optional) return undefined;
    throw invalid('Idempotency-Key', 'the header is required');
  }
  if (!IDEMPOTENCY_KEY.test(key)) throw invalid('Idempotency-Key', 'must be 1 to 200 visible ASCII characters');
  return key;
}
