import { STATUS_CODES } from 'node:http';
import { AppError } from '../infra/errors.js';
import { errorReply, type Reply, type Request, type Route } from '../infra/http.js';
import type { Logger } from '../infra/logger.js';
import { framingProblem, rejectFraming } from './framing.js';
import { checkBodyText, checkLineText, controlCharIn } from './input.js';
import type { HttpRequest, HttpResponse, TemplatedApp } from '../infra/uws.js';

/**
 * The one place that knows uWS HTTP habits: onAborted before any await, headers and URL read before the
 * first await, copied body chunks, corked writes. Route handlers (infra/http.ts) get a plain `Request` and
 * return a `Reply`.
 */
export interface HttpOptions {
  log: Logger;
  maxBodyBytes: number;
}

const statusLines = new Map<number, string>();
const statusLine = (status: number) => {
  let line = statusLines.get(status);
  if (line === undefined) statusLines.set(status, (line = `${status} ${STATUS_CODES[status] ?? ''}`));
  return line;
};

/**
 * Headers of every page (HTML): scripts and styles from this origin only (the pages have no inline script
 * or style), never framed by another site, and no referrer sent with links off the site.
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/**
 * Writes a reply; call inside cork when after an await. Every answer says `nosniff`; pages get PAGE_HEADERS;
 * an answer to a request that carried credentials (`authenticated`) is never stored by a cache.
 */
function writeReply(res: HttpResponse, reply: Reply, authenticated = false): void {
  res.writeStatus(statusLine(reply.status));
  res.writeHeader('x-content-type-options', 'nosniff');
  const headers = reply.headers;
  if (headers) {
    for (const k in headers) res.writeHeader(k, headers[k]);
    if (reply.raw !== undefined && headers['content-type']?.startsWith('text/html')) {
      for (const k in PAGE_HEADERS) res.writeHeader(k, PAGE_HEADERS[k]);
    }
  }
  if (authenticated && headers?.['cache-control'] === undefined) res.writeHeader('cache-control', 'no-store');
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

export function sendReply(res: HttpResponse, reply: Reply, state: { aborted: boolean; headers?: Record<string, string> }): void {
  if (state.aborted) return;
  state.aborted = true; // a response is sent once
  const authenticated = state.headers?.authorization !== undefined;
  res.cork(() => writeReply(res, reply, authenticated));
}

/**
 * Reads the body up to `max` bytes and calls `done` once: with the parsed JSON (undefined for an empty
 * body), or with a 413 past `max`, or a 400 for malformed JSON. A body that arrives in one chunk (nearly
 * all of them) is decoded straight from uWS's buffer, which is valid until the callback returns.
 */
function readJson(res: HttpResponse, max: number, contentLength: number, done: (err: AppError | null, body?: unknown) => void): void {
  if (contentLength > max) return done(new AppError('payload_too_large', `body is over ${max} bytes`));
  let chunks: Buffer[] | undefined;
  let size = 0;
  let failed = false;
  res.onData((chunk, isLast) => {
    if (failed) return;
    size += chunk.byteLength;
    if (size > max) {
      failed = true;
      return done(new AppError('payload_too_large', `body is over ${max} bytes`));
    }
    if (!isLast) {
      (chunks ??= []).push(Buffer.from(new Uint8Array(chunk))); // copy: uWS reuses the buffer
      return;
    }
    const text = chunks ? Buffer.concat([...chunks, Buffer.from(chunk)]).toString('utf8') : Buffer.from(chunk).toString('utf8');
    if (text.length === 0) return done(null, undefined);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return text.trim() === '' ? done(null, undefined) : done(new AppError('invalid_request', 'body is not valid JSON', 'body'));
    }
    done(null, body);
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

/**
 * A request as handlers see it. Headers, params and the query string are copied out of uWS before anything
 * async (uWS frees its request object when the callback returns); the query is parsed and the client
 * address read only when a handler asks. `aborted` is set when the client went away or a reply went out:
 * nothing may touch `res` after that.
 */
class IncomingRequest implements Request {
  body: unknown = undefined;
  aborted = false;
  #query: URLSearchParams | undefined;
  #ip: string | undefined;
  constructor(
    readonly res: HttpResponse,
    readonly method: string,
    readonly path: string,
    readonly rawQuery: string,
    readonly params: Record<string, string>,
    readonly headers: Record<string, string>,
  ) {}

  /** The parsed query; a value or name holding a control character is a 400 naming it. */
  get query(): URLSearchParams {
    if (this.#query === undefined) {
      const query = new URLSearchParams(this.rawQuery);
      if (this.rawQuery !== '') checkLineText(query);
      this.#query = query;
    }
    return this.#query;
  }

  get ip(): string {
    return (this.#ip ??= this.aborted ? '' : Buffer.from(this.res.getRemoteAddressAsText()).toString());
  }
}

/**
 * The request headers handlers see (reading a fixed few is much cheaper than copying all of them out of
 * uWS). A handler that needs another header adds its name here. An empty value counts as absent.
 */
export const REQUEST_HEADERS = ['authorization', 'content-length', 'content-type', 'idempotency-key', 'admission-token', 'x-cart-token'];

const NO_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** Runs the handler and sends what it answers, at once when it answers synchronously. */
function runHandler(route: Route, req: IncomingRequest, log: Logger): void {
  let reply: Promise<Reply> | Reply;
  try {
    reply = route.handler(req);
  } catch (err) {
    return sendReply(req.res, errorReply(err, log, req), req);
  }
  if (reply instanceof Promise) {
    reply.then(
      (r) => sendReply(req.res, r, req),
      (err) => sendReply(req.res, errorReply(err, log, req), req),
    );
  } else sendReply(req.res, reply, req);
}

export function register(app: TemplatedApp, route: Route, opts: HttpOptions): void {
  const names = paramNames(route.path);
  const method = route.method === 'del' ? 'DELETE' : route.method.toUpperCase();
  const hasBody = route.method !== 'get';
  app[route.method](route.path, (res: HttpResponse, uwsReq: HttpRequest) => {
    const headers: Record<string, string> = {};
    for (const name of REQUEST_HEADERS) {
      const value = uwsReq.getHeader(name);
      if (value !== '') headers[name] = value;
    }
    const framing = framingProblem(uwsReq, headers['content-length']);
    if (framing !== null) return rejectFraming(res, framing);
    let params = NO_PARAMS;
    if (names.length > 0) {
      params = {};
      for (let i = 0; i < names.length; i++) params[names[i]] = safeDecode(uwsReq.getParameter(i) ?? '');
    }
    const req = new IncomingRequest(res, method, uwsReq.getUrl(), uwsReq.getQuery() ?? '', params, headers);
    const badText = controlCharIn(headers) ?? (names.length > 0 ? controlCharIn(params) : null);
    if (badText !== null) {
      return sendReply(res, { status: 400, body: new AppError('invalid_request', `${badText}: must not contain control characters`, badText).toJSON() }, req);
    }
    res.onAborted(() => {
      req.aborted = true;
    });
    if (!hasBody) return runHandler(route, req, opts.log);
    readJson(res, opts.maxBodyBytes, Number(headers['content-length'] ?? 0), (err, body) => {
      if (err) return sendReply(res, errorReply(err, opts.log, req), req);
      try {
        checkBodyText(body);
      } catch (bad) {
        return sendReply(res, errorReply(bad, opts.log, req), req);
      }
      req.body = body;
      runHandler(route, req, opts.log);
    });
  });
}
