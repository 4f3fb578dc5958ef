import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import uws, { type TemplatedApp, type us_listen_socket } from '../infra/uws.js';
import { openLite } from './ws-lite.js';

/** The benchmark's small WebSocket client against a real uWS server. */
describe('ws-lite (benchmark client)', () => {
  let app: TemplatedApp;
  let listen: us_listen_socket;
  let port = 0;
  let pongs = 0;

  beforeAll(async () => {
    app = uws.App().ws('/*', {
      open: (ws) => {
        ws.send('hello');
        ws.send('x'.repeat(300)); // 16-bit length
        ws.send('y'.repeat(70_000)); // 64-bit length, several reads
        ws.ping('are you there');
      },
      message: (ws, data) => {
        if (Buffer.from(data).toString() === 'bye') ws.end(4001, 'replaced');
      },
      pong: () => void (pongs += 1),
    });
    await new Promise<void>((resolve) =>
      app.listen('127.0.0.1', 0, (s) => {
        listen = s as us_listen_socket;
        port = uws.us_socket_local_port(listen);
        resolve();
      }),
    );
  });
  afterAll(() => uws.us_listen_socket_close(listen));

  it('reads text frames of every length, answers pings, sends masked frames, and reports the close code', async () => {
    const texts: string[] = [];
    const first = openLite('127.0.0.1', port, '/q', { onOpen: () => {}, onText: (t) => texts.push(t), onClose: () => {} });
    await expect.poll(() => texts.length).toBe(3);
    expect(texts.map((t) => t.length)).toEqual([5, 300, 70_000]);
    await expect.poll(() => pongs).toBe(1);
    first.close();

    // A client text frame reaches the server, which closes with 4001; the client reports that code.
    const code = await new Promise<number>((resolve) => {
      const c = openLite('127.0.0.1', port, '/q', { onOpen: () => c.write(maskedText('bye')), onText: () => {}, onClose: resolve });
    });
    expect(code).toBe(4001);
  });

  it('a refused upgrade is reported with its HTTP status', async () => {
    const srv = uws.App().get('/*', (res) => void res.writeStatus('401 Unauthorized').end('no'));
    const refused = await new Promise<number>((resolve) => {
      srv.listen('127.0.0.1', 0, (s) => {
        const p = uws.us_socket_local_port(s as us_listen_socket);
        openLite('127.0.0.1', p, '/q', {
          onOpen: () => {},
          onText: () => {},
          onClose: (c) => {
            uws.us_listen_socket_close(s as us_listen_socket);
            resolve(c);
          },
        });
      });
    });
    expect(refused).toBe(401);
  });
});

function maskedText(text: string): Buffer {
  const payload = Buffer.from(text);
  const out = Buffer.alloc(6 + payload.length);
  out[0] = 0x81;
  out[1] = 0x80 | payload.length;
  payload.copy(out, 6); // mask key 0: the masked bytes equal the payload
  return out;
}
