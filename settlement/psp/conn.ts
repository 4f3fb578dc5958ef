import { STATUS_CODES } from 'node:http';
import type { HttpResponse } from '../../infra/uws.js';
import { errorReply } from '../../infra/http.js';
import { AppError } from '../../infra/errors.js';
import type { Logger } from '../../infra/logger.js';

/**
 * One HTTP exchange with the simulator, with the uWS habits in one place: onAborted before any await, a
 * copied body, corked writes, one answer at most. Unlike gateway/http.ts it can also drop the connection
 * without answering and hold an answer until the client gives up, which is what the test methods need.
 */
export interface Conn {
  res: HttpResponse;
  method: string;
  path: string;
  /** An answer was sent, or the connection is gone. */
  done: boolean;
  aborted: boolean;
  onAbort?: () => void;
}

const statusLines = new Map<number, string>();
const statusLine = (status: number) => {
  let line = statusLines.get(status);
  if (!line) statusLines.set(status, (line = `${status} ${STATUS_CODES[status] ?? ''}`));
  return line;
};

export function open(res: HttpResponse, method: string, path: string): Conn {
  const c: Conn = { res, method, path, done: false, aborted: false };
  res.onAborted(() => {
    c.aborted = c.done = true;
    c.onAbort?.();
  });
  return c;
}

export function send(c: Conn, status: number, body: unknown): void {
  if (c.done) return;
  c.done = true;
  const json = JSON.stringify(body);
  c.res.cork(() => {
    c.res.writeStatus(statusLine(status)).writeHeader('content-type', 'application/json').end(json);
  });
}

export function fail(c: Conn, err: unknown, log: Logger): void {
  const reply = errorReply(err, log, c);
  send(c, reply.status, reply.body);
}

/** Closes the connection without an answer (the client sees a reset). */
export function drop(c: Conn): void {
  if (c.done) return;
  c.done = true;
  c.res.close();
}

/** Resolves when the client disconnects, or after `maxMs`. */
export function holdUntilAbort(c: Conn, maxMs: number, sleep: (ms: number) => Promise<void>): Promise<void> {
  if (c.aborted) return Promise.resolve();
  return Promise.race([new Promise<void>((resolve) => (c.onAbort = resolve)), sleep(maxMs)]);
}

/** Reads a JSON body of at most `max` bytes (413 past it, 400 when it is not JSON). Call before any await. */
export function readBody(res: HttpResponse, contentLength: number, max = 64 * 1024): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (contentLength > max) return reject(new AppError('payload_too_large', `body is over ${max} bytes`));
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    res.onData((chunk, isLast) => {
      if (failed) return;
      size += chunk.byteLength;
      if (size > max) {
        failed = true;
        return reject(new AppError('payload_too_large', `body is over ${max} bytes`));
      }
      chunks.push(Buffer.from(new Uint8Array(chunk))); // copy: uWS reuses the buffer
      if (!isLast) return;
      const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return reject(new AppError('invalid_request', 'a JSON body is required', 'body'));
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new AppError('invalid_request', 'body is not valid JSON', 'body'));
      }
    });
  });
}
