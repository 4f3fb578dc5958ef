import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeUsers } from '../sales.js';
import { startTestEngine, type TestEngine } from '../engine.js';
import { rawHttp } from './raw.js';

let t: TestEngine;
beforeAll(async () => {
  t = await startTestEngine({}, false);
});
afterAll(() => t?.cleanup());

const json = (s: string) => JSON.parse(s.slice(s.indexOf('\r\n\r\n') + 4).split('HTTP/1.1')[0]);
const reg = (email: string) => JSON.stringify({ email, password: 'a long enough pass' });
const userExists = async (email: string) => (await t.ctx.db.query('SELECT 1 FROM users WHERE email = $1', [email])).rowCount === 1;

describe('HTTP framing over a raw socket', () => {
  it('two Content-Length headers: 400, connection closed, and a request smuggled behind it never runs', async () => {
    const body = reg('dup@example.com');
    const alone = await rawHttp(t.engine.port, `POST /api/auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nContent-Length: ${body.length + 60}\r\n\r\n${body}`);
    expect(alone.statuses).toEqual([400]);
    expect(alone.closed).toBe(true);
    expect(json(alone.text).error.code).toBe('invalid_request');
    expect(await userExists('dup@example.com')).toBe(false);

    const smuggled = reg('smuggled@example.com');
    const attack = `POST /api/auth/register HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 90\r\n\r\n{}` +
      `POST /api/auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`;
    const r = await rawHttp(t.engine.port, attack);
    expect(r.closed).toBe(true);
    expect(r.statuses.filter((s) => s !== 400)).toEqual([]);
    expect(await userExists('smuggled@example.com')).toBe(false);
  });

  it('Transfer-Encoding other than chunked (xchunked, "gzip, chunked", twice): 400 and closed', async () => {
    for (const te of ['xchunked', 'gzip, chunked', 'chunked\r\nTransfer-Encoding: chunked', 'identity']) {
      const r = await rawHttp(t.engine.port, `POST /api/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ${te}\r\n\r\n2\r\n{}\r\n0\r\n\r\n`);
      expect(r.statuses, te).toEqual([400]);
      expect(r.closed, te).toBe(true);
    }
    // On an unknown path too (the gateway's catch-all).
    const r = await rawHttp(t.engine.port, `GET /nowhere HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`);
    expect(r.statuses).toEqual([400]);
  });

  it('Content-Length with Transfer-Encoding: never served (uWS drops it; with a non-chunked coding the gateway answers 400)', async () => {
    const both = await rawHttp(t.engine.port, `POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`);
    expect(both.closed).toBe(true);
    expect(both.statuses.every((s) => s === 400)).toBe(true);
    const odd = await rawHttp(t.engine.port, `POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`);
    expect(odd.closed).toBe(true);
    expect(odd.statuses.every((s) => s === 400)).toBe(true);
  });

  it('well-formed chunked bodies and pipelined synchronous requests are all answered, in order', async () => {
    const body = reg('chunked@example.com');
    const chunked = await rawHttp(t.engine.port, `POST /api/auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`);
    expect(chunked.statuses).toEqual([201]);
    const three = 'GET /api/nothing HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(3);
    expect((await rawHttp(t.engine.port, three)).statuses).toEqual([404, 404, 404]);
  });

  it('pipelined requests to an async route: each is answered, or the connection is closed with none run half-way', async () => {
    // uWS refuses async pipelining by design: when a request arrives while the previous answer is pending it
    // closes the connection (HttpContext.h: "Important for denying async pipelining"). Nothing is answered
    // out of order or mixed up; clients (and HAProxy in front) do not pipeline. See docs/security.md.
    const [u] = await makeUsers(t.ctx, 1);
    const one = `GET /api/orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${u.token}\r\n\r\n`;
    const r = await rawHttp(t.engine.port, one + one);
    expect(r.statuses.every((s) => s === 200)).toBe(true);
    if (r.statuses.length < 2) expect(r.closed).toBe(true);
    // Sent one after the other on one connection, both are answered.
    const seq = await rawHttp(t.engine.port, one);
    expect(seq.statuses).toEqual([200]);
  });
});
