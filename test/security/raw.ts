import net from 'node:net';

/**
 * Sends raw bytes to a server and collects everything it answers until it closes the connection or
 * `idleMs` pass without more bytes. `closed` tells whether the server closed the connection.
 */
export function rawHttp(port: number, raw: string, idleMs = 600): Promise<{ text: string; closed: boolean; statuses: number[] }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(raw));
    let text = '';
    let timer: NodeJS.Timeout;
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed, statuses: [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1])) });
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(false), idleMs);
    };
    socket.on('data', (d) => {
      text += d.toString('latin1');
      arm();
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    arm();
  });
}
