import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The PSP simulator as a real child process for tests: its own free port and data dir. `kill()` is a
 * SIGKILL (nothing flushed on the way out), `stop()` a SIGTERM, `restart()` starts it again on the same port
 * and data dir, so a provider built from `url` keeps working across restarts.
 *
 *   const psp = await startPsp();
 *   const payments = new HttpPaymentProvider({ url: psp.url, timeoutMs: 500 });
 *   ...
 *   expect((await psp.stats()).charges.created).toBe(100);
 *   await psp.cleanup();
 */
export interface PspProcessOptions {
  /** "0", "50" or "20-80" (ms). */
  latencyMs?: number | string;
  failureRate?: number;
  /** Longest a pm_card_timeout answer is held if the client never gives up. */
  hangMs?: number;
  /** Reuse a data dir (default: a fresh temp dir, removed by cleanup). */
  dataDir?: string;
  /** Default: a free port chosen by the first start. */
  port?: number;
}

export interface PspProcess {
  url: string;
  port: number;
  dataDir: string;
  pid: () => number | undefined;
  running: () => boolean;
  /** GET /v1/stats (with ?key= when given). */
  stats: (key?: string) => Promise<any>;
  stop: () => Promise<void>;
  kill: () => Promise<void>;
  restart: (opts?: Pick<PspProcessOptions, 'latencyMs' | 'failureRate' | 'hangMs'>) => Promise<void>;
  /** Kills it and removes a temp data dir. */
  cleanup: () => Promise<void>;
}

const root = fileURLToPath(new URL('..', import.meta.url));
const script = join(root, 'scripts/psp.ts');
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

function spawnPsp(port: number, dataDir: string, opts: PspProcessOptions): Promise<{ child: ChildProcess; port: number }> {
  const args = ['--import', 'tsx', script, '--port', String(port), '--data-dir', dataDir];
  if (opts.latencyMs !== undefined) args.push('--latency', String(opts.latencyMs));
  if (opts.failureRate !== undefined) args.push('--failure-rate', String(opts.failureRate));
  if (opts.hangMs !== undefined) args.push('--hang-ms', String(opts.hangMs));
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`PSP simulator did not start within 30 s\n${stderr}`));
    }, 30_000);
    const onData = (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.includes('"event":"listening"')) continue;
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.resume(); // keep draining later output
        child.off('exit', onExit);
        resolve({ child, port: (JSON.parse(line) as { port: number }).port });
        return;
      }
    };
    const onExit = (code: number | null, signal: string | null) => {
      clearTimeout(timer);
      reject(new Error(`PSP simulator exited before listening (code ${code}, signal ${signal})\n${stderr}`));
    };
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startPsp(opts: PspProcessOptions = {}): Promise<PspProcess> {
  const tempDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'psp-test-')));
  let current = opts;
  let { child, port } = await spawnPsp(opts.port ?? 0, dataDir, opts).catch(async (err) => {
    if (tempDir) await rm(dataDir, { recursive: true, force: true });
    throw err;
  });
  const url = `http://127.0.0.1:${port}`;
  const signal = async (sig: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const done = exited(child);
    child.kill(sig);
    await done;
  };
  const psp: PspProcess = {
    url,
    port,
    dataDir,
    pid: () => child.pid,
    running: () => child.exitCode === null && child.signalCode === null,
    stats: async (key) => {
      const res = await fetch(`${url}/v1/stats${key === undefined ? '' : `?key=${encodeURIComponent(key)}`}`);
      if (!res.ok) throw new Error(`PSP stats: ${res.status}`);
      return res.json();
    },
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
    restart: async (more = {}) => {
      await signal('SIGTERM');
      current = { ...current, ...more };
      // The port was just freed; retry briefly in case the kernel has not let go of it yet.
      for (let attempt = 1; ; attempt++) {
        try {
          ({ child } = await spawnPsp(port, dataDir, current));
          return;
        } catch (err) {
          if (attempt >= 5 || !/cannot listen/.test(String(err))) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    },
    cleanup: async () => {
      await signal('SIGKILL');
      if (tempDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
  return psp;
}
