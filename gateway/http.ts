import { STATUS_CODES } from 'node:http';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { ZodError } from 'zod';
import { AppError } from '../infra/errors.js';
import type { Logger } from '../infra/logger.js';

/**
 * The one place that knows uWS HTTP habits: onAborted before any await, headers and URL read before the
 * first await, copied body chunks, corked writes. Route handlers get a plain `Request` and return a `Reply`.
 */
export interface Request {
  method: string;
  path: string;
  query: URLSearchParams;
  params: Record<string, string>;
  /** Lower-case header names. */
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

export interface HttpOptions {
  log: Logger;
  maxBodyBytes: number;
}

const statusLine = (status: number) => `${status} ${STATUS_CODES[status] ?? ''}`;

export function errorReply(err: unknown, log: Logger, req?: Pick<Request, 'method' | 'path'>): Reply {
  if (err instanceof AppError) return { status: err.status, body: err.toJSON() };
  if (err instanceof ZodError) {
    const issue = err.issues[0];
    const field = issue?.path.join('.') || 'body';
    return { status: 400, body: new AppError('invalid_request', `${field}: ${issue?.message ?? 'invalid'}`, field).toJSON() };
  }
  log.error({ err, method: req?.method, path: req?.path }, 'unexpected error');
  return { status: 500, body: new AppError('internal', 'internal error').toJSON() };
}

/** Writes a reply; call inside cork when after an await. */
function writeReply(res: HttpResponse, reply: Reply): void {
  res.writeStatus(statusLine(reply.status));
  for (const [k, v] of Object.entries(reply.headers ?? {})) res.writeHeader(k, v);
  if (reply.raw !== undefined) {
    res.end(reply.raw);
    return;
  }
  if (reply.body === undefined) {
    res.end();
    return;
  }
  res.writeHeader('content-type', 'application/json');
  res.end(JSON.stringify(reply.body));
}

export function sendReply(res: HttpResponse, reply: Reply, state: { aborted: boolean }): void {
  if (state.aborted) return;
  state.aborted = true; // a response is sent once
  res.cork(() => writeReply(res, reply));
}

export function sendError(res: HttpResponse, err: unknown, log: Logger, state: { aborted: boolean }): void {
  sendReply(res, errorReply(err, log), state);
}

/** Reads the body up to `max` bytes; rejects with 413 past it, 400 on malformed JSON. */
function readJson(res: HttpResponse, max: number, contentLength: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (contentLength > max) {
      reject(new AppError('payload_too_large', `body is over ${max} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    res.onData((chunk, isLast) => {
      if (failed) return;
      size += chunk.byteLength;
      if (size > max) {
        failed = true;
        reject(new AppError('payload_too_large', `body is over ${max} bytes`));
        return;
      }
      chunks.push(Buffer.from(new Uint8Array(chunk))); // copy: uWS reuses the buffer
      if (!isLast) return;
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new AppError('invalid_request', 'body is not valid JSON', 'body'));
      }
    });
  });
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function paramNames(path: string): string[] {
  return path.split('/').filter((s) => s.startsWith(':')).map((s) => s.slice(1));
}

export function register(app: TemplatedApp, route: Route, opts: HttpOptions): void {
  const names = paramNames(route.path);
  const hasBody = route.method === 'post' || route.method === 'put' || route.method === 'patch' || route.method === 'del';
  app[route.method](route.path, (res: HttpResponse, uwsReq: HttpRequest) => {
    const state = { aborted: false };
    res.onAborted(() => {
      state.aborted = true;
    });
    const headers: Record<string, string> = {};
    uwsReq.forEach((k, v) => {
      headers[k] = v;
    });
    const params: Record<string, string> = {};
    names.forEach((n, i) => {
      params[n] = safeDecode(uwsReq.getParameter(i) ?? '');
    });
    const req: Request = {
      method: uwsReq.getMethod().toUpperCase(),
      path: uwsReq.getUrl(),
      query: new URLSearchParams(uwsReq.getQuery() ?? ''),
      params,
      headers,
      ip: Buffer.from(res.getRemoteAddressAsText()).toString(),
      body: undefined,
    };
    const bodyPromise = hasBody ? readJson(res, opts.maxBodyBytes, Number(headers['content-length'] ?? 0)) : undefined;
    (async () => {
      if (bodyPromise) req.body = await bodyPromise;
      return route.handler(req);
    })().then(
      (reply) => sendReply(res, reply, state),
      (err) => sendReply(res, errorReply(err, opts.log, req), state),
    );
  });
}
