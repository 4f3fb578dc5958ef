import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Runs real gateway processes (`scripts/start.ts`) for multi-gateway tests and benchmarks. Started as
 * `node --import tsx` so the process we signal is the engine itself (npx/tsx would put wrappers between).
 */
const root = fileURLToPath(new URL('../', import.meta.url));

export interface GatewayProcess {
  url: string;
  port: number;
  proc: ChildProcess;
  /** SIGTERM and wait (graceful stop). */
  stop: () => Promise<void>;
  /** SIGKILL: a crash. */
  kill: () => Promise<void>;
}

export function spawnGateway(env: NodeJS.ProcessEnv, opts: { background?: boolean } = {}): Promise<GatewayProcess> {
  const args = ['--import', 'tsx', 'scripts/start.ts', '--no-psp', ...(opts.background === false ? ['--no-background'] : [])];
  const proc = spawn(process.execPath, args, { cwd: root, env: { LOG_LEVEL: 'info', ...env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const waitExit = async (signal: NodeJS.Signals, ms: number) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    const t = setTimeout(() => proc.kill('SIGKILL'), ms);
    await exited;
    clearTimeout(t);
  };
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`gateway did not start in time: ${err.slice(-2000)}`));
    }, 60_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      let i: number;
      while ((i = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, i);
        out = out.slice(i + 1);
        if (!line.includes('listening on')) continue;
        try {
          const j = JSON.parse(line) as { msg?: string; port?: number };
          if (j.port) {
            clearTimeout(timer);
            resolve({
              url: `http://127.0.0.1:${j.port}`,
              port: j.port,
              proc,
              stop: () => waitExit('SIGTERM', 10_000),
              kill: () => waitExit('SIGKILL', 1000),
            });
          }
        } catch {
          /* not a log line */
        }
      }
    });
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited (${code}): ${err.slice(-2000)}`));
    });
  });
}
