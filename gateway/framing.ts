import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { AppError } from '../infra/errors.js';

/**
 * HTTP/1.1 framing checks uWS does not make itself (RFC 9112 §6). uWS already drops the connection, with no
 * answer, for a Content-Length that is not a number and for Content-Length together with Transfer-Encoding;
 * it takes the first of two Content-Length headers and treats any Transfer-Encoding (`xchunked`,
 * `gzip, chunked`) as chunked. Both let the body of one request be read as another request (smuggling).
 * Here: two Content-Length headers, two Transfer-Encoding headers, or a Transfer-Encoding other than
 * `chunked` (alone or with Content-Length) get a 400 and the connection is closed.
 *
 * Cost: one header lookup per request, plus one walk over the headers when a Content-Length is present.
 */
export function framingProblem(req: HttpRequest, contentLength: string | undefined): string | null {
  const te = req.getHeader('transfer-encoding');
  if (te === '' && contentLength === undefined) return null;
  if (te !== '' && te.toLowerCase() !== 'chunked') return 'Transfer-Encoding other than chunked';
  if (te !== '' && contentLength !== undefined) return 'Content-Length together with Transfer-Encoding';
  let lengths = 0;
  let encodings = 0;
  req.forEach((name) => {
    if (name === 'content-length') lengths++;
    else if (name === 'transfer-encoding') encodings++;
  });
  if (lengths > 1) return 'more than one Content-Length header';
  if (encodings > 1) return 'more than one Transfer-Encoding header';
  return null;
}

/**
 * Answers 400 and closes the connection. The answer goes out on the next turn of the event loop, not from
 * inside the uWS callback: uWS parses the rest of the packet right after the callback returns, and a request
 * smuggled in it must not run. While this answer is pending uWS drops the connection on seeing another
 * request (it never runs it), so the smuggled request dies with it; when nothing follows, the 400 is sent.
 */
export function rejectFraming(res: HttpResponse, problem: string): void {
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  const body = JSON.stringify(new AppError('invalid_request', `malformed HTTP framing: ${problem}`, 'headers').toJSON());
  setImmediate(() => {
    if (aborted) return;
    res.cork(() => {
      res.writeStatus('400 Bad Request').writeHeader('content-type', 'application/json').writeHeader('x-content-type-options', 'nosniff').end(body, true);
    });
  });
}
