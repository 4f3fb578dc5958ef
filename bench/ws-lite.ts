/**
 * A deliberately small WebSocket client for the queue benchmark's load generator (RFC 6455, client side,
 * text frames only). With 18,000 sockets per client process the `ws` package spent about as much CPU per
 * handshake and per message as the gateways did, so the clients, sharing two cores with the gateways,
 * were a large part of what was measured. This one keeps per socket one libuv TCP handle and a closure: it
 * answers pings (so the server's liveness check sees a live shopper), answers a close, and hands text
 * frames on. Not for production use; the browser page uses the browser's WebSocket.
 *
 * It drives Node's TCP handle (`process.binding('tcp_wrap')`, the object under net.Socket) directly: every
 * read lands in one shared buffer and calls one function, without the stream machinery of net.Socket
 * (timers, a JS wrapper per read). In the queue benchmark that is about 1 µs less CPU per message
 * (5.5 instead of 6.4 µs of user time, same box), which the gateways get instead.
 */
import { createHash, randomBytes } from 'node:crypto';

interface TcpHandle {
  onread: () => void;
  bind(address: string, port: number): number;
  connect(req: object, address: string, port: number): number;
  setNoDelay(on: boolean): number;
  useUserBuffer(buf: Uint8Array): void;
  readStart(): number;
  writeBuffer(req: object, data: Uint8Array): number;
  writeLatin1String(req: object, data: string): number;
  close(cb?: () => void): void;
}
interface Bindings {
  TCP: new (type: number) => TcpHandle;
  TCPConnectWrap: new () => { oncomplete: (status: number) => void; address: string; port: number };
  WriteWrap: new () => { handle: TcpHandle; oncomplete: () => void; async: boolean };
  SOCKET: number;
  /** Node's shared read state: [kReadBytesOrError] is the byte count (or negative error) of the read being delivered. */
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
}

function bindings(): Bindings {
  const binding = (process as unknown as { binding: (name: string) => Record<string, never> }).binding;
  const tcp = binding('tcp_wrap');
  const stream = binding('stream_wrap');
  return {
    TCP: tcp.TCP,
    TCPConnectWrap: tcp.TCPConnectWrap,
    SOCKET: (tcp.constants as { SOCKET: number }).SOCKET,
    WriteWrap: stream.WriteWrap,
    streamBaseState: stream.streamBaseState,
    kReadBytesOrError: stream.kReadBytesOrError,
  };
}
const B = bindings();

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** Every socket reads into this buffer; a read is handled before the next one starts, so it is never shared in time. */
const shared = Buffer.allocUnsafe(64 * 1024);

export interface LiteHandlers {
  onOpen: () => void;
  onText: (text: string) => void;
  /** Once, whatever the cause: the server's close code, 1006 for a dropped connection, or the HTTP status of a refused upgrade. */
  onClose: (code: number) => void;
  /** A ping from the server (already answered with a pong). */
  onPing?: () => void;
}

export interface LiteSocket {
  /** Writes raw bytes (a frame the caller built). */
  write: (data: Buffer) => void;
  /** Sends a close frame (1000) and drops the connection. */
  close: () => void;
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

const noop = () => {};
/** A write of a few bytes; libuv tries it at once and queues what the kernel did not take. */
function write(handle: TcpHandle, data: Buffer | string): void {
  const req = new B.WriteWrap();
  req.handle = handle;
  req.oncomplete = noop;
  req.async = false;
  if (typeof data === 'string') handle.writeLatin1String(req, data);
  else handle.writeBuffer(req, data);
}

/** `localAddress` (e.g. 127.0.0.2) gives a client process its own ephemeral-port space on loopback. */
export function openLite(host: string, port: number, path: string, h: LiteHandlers, localAddress?: string): LiteSocket {
  const key = randomBytes(16).toString('base64');
  const accept = createHash('sha1').update(key + GUID).digest('base64');
  const handle = new B.TCP(B.SOCKET);
  let upgraded = false;
  let closed = false;
  /** Bytes of a frame (or of the upgrade answer) that did not fit in one read. */
  let rest: Buffer | null = null;
  let fragments: Buffer[] | null = null;

  const finish = (code: number) => {
    if (closed) return;
    closed = true;
    handle.onread = noop; // must stay a function (a native check aborts otherwise)
    handle.close();
    h.onClose(code);
  };

  const req = new B.TCPConnectWrap();
  req.oncomplete = (status: number) => {
    if (status < 0) return finish(1006);
    handle.setNoDelay(true);
    handle.useUserBuffer(shared);
    handle.onread = onRead;
    handle.readStart();
    write(
      handle,
      `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  };
  req.address = host;
  req.port = port;
  const err = (localAddress ? handle.bind(localAddress, 0) : 0) || handle.connect(req, host, port);
  if (err) queueMicrotask(() => finish(1006));

  /** One read: `n` bytes at the start of the shared buffer (negative: end of stream or an error). */
  function onRead(): void {
    const n = B.streamBaseState[B.kReadBytesOrError];
    if (n < 0) return finish(1006);
    let data = shared;
    let end = n;
    let off = 0;
    if (rest) {
      data = Buffer.concat([rest, shared.subarray(0, n)]);
      end = data.length;
      rest = null;
    }
    if (!upgraded) {
      const head = data.subarray(0, end).indexOf('\r\n\r\n');
      if (head < 0) {
        rest = Buffer.from(data.subarray(0, end));
        return;
      }
      const text = data.toString('latin1', 0, head);
      const status = Number(text.slice(9, 12));
      if (status !== 101 || !text.toLowerCase().includes(`sec-websocket-accept: ${accept.toLowerCase()}`)) return finish(status || 1002);
      upgraded = true;
      h.onOpen();
      off = head + 4;
    }
    while (end - off >= 2) {
      const b0 = data[off];
      const b1 = data[off + 1];
      let len = b1 & 0x7f;
      let at = off + 2;
      if (len === 126) {
        if (end - off < 4) break;
        len = data.readUInt16BE(off + 2);
        at += 2;
      } else if (len === 127) {
        if (end - off < 10) break;
        len = Number(data.readBigUInt64BE(off + 2));
        at += 8;
      }
      if (b1 & 0x80) return finish(1002); // servers never mask
      if (end - at < len) break;
      off = at + len;
      const opcode = b0 & 0x0f;
      const fin = (b0 & 0x80) !== 0;
      // the common case first: one whole text frame, decoded straight from the read buffer
      if (opcode === 0x1 && fin && !fragments) h.onText(data.toString('utf8', at, at + len));
      else if (opcode === 0x9) {
        write(handle, frame(0xa, data.subarray(at, at + len)));
        h.onPing?.();
      }
      else if (opcode === 0x8) {
        const code = len >= 2 ? data.readUInt16BE(at) : 1005;
        write(handle, frame(0x8, data.subarray(at, at + Math.min(2, len))));
        return finish(code);
      } else if (opcode === 0x1 || opcode === 0x0) {
        (fragments ??= []).push(Buffer.from(data.subarray(at, at + len)));
        if (!fin) continue;
        const whole = Buffer.concat(fragments);
        fragments = null;
        h.onText(whole.toString('utf8'));
      }
      if (closed) return;
    }
    if (off < end) rest = Buffer.from(data.subarray(off, end));
  }

  return {
    write: (data) => {
      if (!closed) write(handle, data);
    },
    close: () => {
      if (closed) return;
      if (upgraded) write(handle, frame(0x8, Buffer.from([0x03, 0xe8])));
      finish(1000);
    },
  };
}
