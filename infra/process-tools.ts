import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { pidAlive, processName } from './services-record.js';

/** Small helpers for the self-started services: free ports, waiting, stopping a PID we started. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not answer within ${timeoutMs / 1000}s`);
}

/** The last non-empty lines of a log file, on one line (for an error message). */
export function lastLines(file: string, n = 2): string {
  if (!existsSync(file)) return '(no log)';
  const lines = readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.slice(-n).join(' | ') || '(empty log)';
}

/**
 * Sends `signal` to `pid` when it is alive and runs `name` (so a reused PID is never hit), then waits up to
 * `timeoutMs` for it to exit, and SIGKILLs it after that.
 */
export async function stopProcess(pid: number, name: string, signal: NodeJS.Signals, timeoutMs = 20_000): Promise<void> {
  if (!signalProcess(pid, name, signal)) return;
  const until = Date.now() + timeoutMs;
  while (pidAlive(pid)) {
    if (Date.now() > until) {
      signalProcess(pid, name, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 200));
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Signals `pid` if it is alive and its executable is `name`; true when signalled. */
export function signalProcess(pid: number, name: string, signal: NodeJS.Signals): boolean {
  if (!pidAlive(pid)) return false;
  const actual = processName(pid);
  if (actual !== undefined && actual !== name) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}
