/**
 * Gateway processes for the queue benchmark: each is `scripts/start.ts --no-psp` (the same entry point as
 * `npm start`, run as `node --import tsx` so the pid we hold is the server's own, for /proc/<pid>/status),
 * with its open-files limit raised to the hard limit; with QUEUE_GC_DIR set, also `--expose-gc` and the
 * memory-reading hook bench/queue-gc.ts (nothing else in the gateway changes).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpuMs } from './settings.js';

export interface GatewayProc {
  index: number;
  port: number;
  url: string;
  proc: ChildProcess;
  pid: number;
}

/**
 * The gateway of shopper k: contiguous blocks, so a client process talks to as few gateways as possible
 * (with 3 clients and 3 gateways, client w only to gateway w). Round-robin made every gateway's fan-out
 * wake every client process: 12% more client CPU per message on this box and a later 99th percentile.
 */
export const gatewayOf = (k: number, shoppers: number, gateways: number) => Math.floor((k * gateways) / shoppers);

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Resident set size of a process in bytes (VmRSS from /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/**
 * RSS once it has stopped falling: sampled every second until no new low for `quietMs` (or `maxMs` is
 * up); returns the lowest sample. A freshly started gateway still holds start-up garbage that V8 gives
 * back a few seconds later, and a baseline taken before that made later deltas come out negative.
 */
export async function settledRss(pid: number, quietMs = 6000, maxMs = 45_000): Promise<number> {
  const start = Date.now();
  let low = rssBytes(pid);
  let lowAt = start;
  while (Date.now() - lowAt < quietMs && Date.now() - start < maxMs) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = rssBytes(pid);
    if (now < low * 0.995) lowAt = Date.now();
    low = Math.min(low, now);
  }
  return low;
}

/** What bench/queue-gc.ts reports right after two full collections in a gateway. */
export interface GcReading {
  at: number;
  rss: number;
  /** VmRSS split: anonymous memory (the process's own) and file pages (the node binary and libraries, shared, evictable). */
  rssAnon: number;
  rssFile: number;
  /** V8's heap: resident bytes of all its spaces (read with the RSS, 1.5 s after the GCs). */
  v8Resident: number;
  /** V8's used heap right after the full GCs: the live size. */
  v8Used: number;
  /** The same when the rest was read, 1.5 s later (what the gateway allocated since is in it). */
  v8UsedAtReading: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** V8's young generation: committed and resident bytes (its size follows the allocation rate). */
  youngCommitted: number;
  youngResident: number;
}

/** Asks a gateway (SIGUSR2) for a reading after two full collections; see bench/queue-gc.ts. */
export async function gcReading(pid: number, dir: string, timeoutMs = 15_000): Promise<GcReading> {
  const file = `${dir}/gc-${pid}.json`;
  rmSync(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as GcReading;
  }
  throw new Error(`gateway ${pid} gave no memory reading within ${timeoutMs} ms`);
}

/** CPU seconds (user + system, or system only) a process has used so far. */
export function cpuSeconds(pid: number, which: 'all' | 'sys' = 'all'): number {
  const ms = cpuMs(pid, which);
  if (ms === undefined) throw new Error(`no /proc/${pid}/stat`);
  return ms / 1000;
}

/** CPU seconds the whole box has been busy (all cores, from /proc/stat; idle and iowait excluded). */
export function boxBusySeconds(): number {
  const [, ...f] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const n = f.map(Number);
  return (n.reduce((a, b) => a + b, 0) - n[3] - n[4]) / 100;
}

/** The open-files limit a process actually got (from /proc/<pid>/limits). */
export function openFilesLimit(pid: number): number | null {
  const m = /Max open files\s+(\d+)/.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  return m ? Number(m[1]) : null;
}

export async function startGateway(index: number, env: NodeJS.ProcessEnv, background: boolean): Promise<GatewayProc> {
  const port = await freePort();
  // the memory reading hook (bench/queue-gc.ts) when QUEUE_GC_DIR is set; the probe for diagnostics
  const gc = env.QUEUE_GC_DIR ? ['--import', './bench/queue-gc.ts'] : [];
  const probe = env.QUEUE_PROBE_DIR ? ['--import', './bench/queue-probe.ts'] : [];
  const args = [...(gc.length ? ['--expose-gc'] : []), '--import', 'tsx', ...gc, ...probe, 'scripts/start.ts', '--no-psp', ...(background ? [] : ['--no-background'])];
  // `exec` keeps the pid: the shell only raises the soft limit to the hard one first.
  const proc = spawn('sh', ['-c', 'ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"', process.execPath, ...args], {
    env: { ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`gateway ${index} exited (${proc.exitCode}): ${stderr}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`gateway ${index} did not become healthy: ${stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { index, port, url, proc, pid: proc.pid! };
}

export async function stopGateway(g: GatewayProc): Promise<void> {
  if (g.proc.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => g.proc.once('exit', () => resolve()));
  g.proc.kill('SIGTERM');
  const timer = setTimeout(() => g.proc.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
