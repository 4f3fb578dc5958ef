/**
 * A deliberately small WebSocket client for the queue benchmark's load generator (RFC 6455, client side,
 * text frames only). With 13,500 sockets per client process the `ws` package spent about as much CPU per
 * handshake and per message as the gateways did, so the clients, sharing two cores with the gateways,
 * were a large part of what was measured. This one keeps per socket one net.Socket and a closure: it
 * answers pings (so the server's liveness check sees a live shopper), answers a close, and hands text
 * frames on. Not for production use; the browser page uses the browser's WebSocket.
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const shared = Buffer.allocUnsafe(64 * 1024);

export interface LiteHandlers {
  onOpen: () => void;
  onText: (text: string) => void;
  /** Once, whatever the cause: the server's close code, 1006 for a dropped connection, or the HTTP status of a refused upgrade. */
  onClose: (code: number) => void;
}

/** A masked client frame (the RFC requires clients to mask). Payloads here are < 126 bytes. */
function frame(opcode: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const out = Buffer.allocUnsafe(6 + payload.length);
  out[0] = 0x80 | opcode;
  out[1] = 0x80 | payload.length;
  mask.copy(out, 2);
  for (let i = 0; i < payload.length; i++) out[6 + i] = payload[i] ^ mask[i & 3];
  return out;
}

/** `localAddress` (e.g. 127.0.0.2) gives a client process its own ephemeral-port space on loopback. */
export function openLite(host: string, port: number, path: string, h: LiteHandlers, localAddress?: string): { socket: Socket; close: () => void } {
  const key = randomBytes(16).toString('base64');
  const accept = createHash('sha1').update(key + GUID).digest('base64');
  // `onread` reads into one shared buffer and skips the stream machinery ('data' events, a Buffer per read).
  const socket = connect({ host, port, localAddress, onread: { buffer: shared, callback: (n: number, b: Uint8Array) => (onData(b as Buffer, n), true) } });
  socket.setNoDelay(true);
  let upgraded = false;
  let closed = false;
  let buf: Buffer | null = null;
  let fragments: Buffer[] | null = null;

  const finish = (code: number) => {
    if (closed) return;
    closed = true;
    socket.destroy();
    h.onClose(code);
  };

  socket.on('connect', () => {
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });

  function onData(read: Buffer, n: number): void {
    // `read` is the shared buffer: anything kept past this call is copied.
    let data = buf ? Buffer.concat([buf, read.subarray(0, n)]) : read.subarray(0, n);
    buf = null;
    if (!upgraded) {
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) {
        buf = data;
        return;
      }
      const head = data.toString('latin1', 0, end);
      const status = Number(head.slice(9, 12));
      if (status !== 101 || !head.toLowerCase().includes(`sec-websocket-accept: ${accept.toLowerCase()}`)) return finish(status || 1002);
      upgraded = true;
      h.onOpen();
      data = data.subarray(end + 4);
    }
    let off = 0;
    while (data.length - off >= 2) {
      const b0 = data[off];
      const b1 = data[off + 1];
      let len = b1 & 0x7f;
      let at = off + 2;
      if (len === 126) {
        if (data.length - off < 4) break;
        len = data.readUInt16BE(off + 2);
        at += 2;
      } else if (len === 127) {
        if (data.length - off < 10) break;
        len = Number(data.readBigUInt64BE(off + 2));
        at += 8;
      }
      if (b1 & 0x80) return finish(1002); // servers never mask
      if (data.length - at < len) break;
      const payload = data.subarray(at, at + len);
      off = at + len;
      const opcode = b0 & 0x0f;
      const fin = (b0 & 0x80) !== 0;
      if (opcode === 0x9) socket.write(frame(0xa, payload));
      else if (opcode === 0x8) {
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        socket.write(frame(0x8, payload.subarray(0, 2)));
        return finish(code);
      } else if (opcode === 0x1 || opcode === 0x0) {
        if (!fin || fragments) {
          (fragments ??= []).push(Buffer.from(payload));
          if (!fin) continue;
          const whole = Buffer.concat(fragments);
          fragments = null;
          h.onText(whole.toString('utf8'));
        } else h.onText(payload.toString('utf8'));
      }
    }
    if (off < data.length) buf = Buffer.from(data.subarray(off));
  }
  socket.on('error', () => finish(1006));
  socket.on('close', () => finish(1006));
  return {
    socket,
    close: () => {
      if (closed) return;
      if (upgraded) socket.end(frame(0x8, Buffer.from([0x03, 0xe8])));
      finish(1000);
    },
  };
}
