import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, createWriteStream, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { lastLines } from '../../infra/process-tools.js';
import { recorded } from '../../infra/services.js';

/**
 * The engine `npm run demo` runs against: a running `npm start` of this data dir (recorded in
 * .data/services.json, with its generated admin key) or one on PORT that answers with ADMIN_API_KEY set;
 * otherwise one started here as a child process (`scripts/start.ts`, on PORT or a free port), stopped again
 * at the end.
 */
export interface DemoEngine {
  url: string;
  adminKey: string;
  /** Where the PSP simulator it uses answers (for the net-charges check). */
  pspUrl: string | undefined;
  startedHere: boolean;
  stop: () => Promise<void>;
}

async function healthy(url: string): Promise<boolean> {
  try {
    const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
    return r.ok;
  } catch {
    return false;
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '0.0.0.0', () => s.close(() => res(true)));
  });
}

export async function findOrStartEngine(opts: { dataDir: string; env: NodeJS.ProcessEnv; logFile: string; say: (m: string) => void }): Promise<DemoEngine> {
  const { dataDir, env, say } = opts;
  const psp = () => env.PSP_URL || recorded(dataDir, 'psp')?.url;
  const mine = recorded(dataDir, 'engine');
  const key = mine?.adminApiKey ?? env.ADMIN_API_KEY;
  if (mine && key && (await healthy(mine.url))) {
    say(`using the running engine at ${mine.url} (pid ${mine.pid})`);
    return { url: mine.url, adminKey: key, pspUrl: psp(), startedHere: false, stop: async () => {} };
  }
  const wanted = Number(env.PORT ?? 3000);
  const onPort = `http://127.0.0.1:${wanted}`;
  if (env.ADMIN_API_KEY && (await healthy(onPort))) {
    say(`using the running engine at ${onPort}`);
    return { url: onPort, adminKey: env.ADMIN_API_KEY, pspUrl: psp(), startedHere: false, stop: async () => {} };
  }
  const port = (await portFree(wanted)) ? wanted : 0;
  if (port === 0) say(`port ${wanted} is taken (by something this demo cannot use); starting the engine on a free port`);
  const adminKey = env.ADMIN_API_KEY || randomBytes(18).toString('base64url');
  const log = openSync(opts.logFile, 'a');
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../start.ts', import.meta.url))], {
    // A PSP answer that never comes (pm_card_timeout) is given up on after 1 s rather than 5 s, and retried 4
    // times rather than 8, so such a payment settles in seconds, not the minute and a half of the defaults;
    // a shopper who left the queue loses the place after 10 s rather than 60 (their admissions would hold
    // the last units' slots meanwhile). Values set in the environment win.
    env: { PSP_TIMEOUT_MS: '1000', SETTLE_ATTEMPTS: '4', SETTLE_BACKOFF_MS: '200', DISCONNECT_GRACE_SECONDS: '10', ...env, PORT: String(port), ADMIN_API_KEY: adminKey, LOG_LEVEL: env.LOG_LEVEL ?? 'info' },
    stdio: ['ignore', 'pipe', log],
  });
  closeSync(log);
  const logStream = createWriteStream(opts.logFile, { flags: 'a' });
  child.stdout!.pipe(logStream);
  // Stopped with the demo, whichever way the demo ends.
  const killChild = () => child.exitCode === null && child.kill('SIGTERM');
  process.on('exit', killChild);
  const url = await new Promise<string>((res, rej) => {
    let out = '';
    child.on('error', (err) => rej(new Error(`cannot start the engine: ${err.message}`)));
    child.on('exit', (code) => rej(new Error(`the engine exited at start (code ${code}): ${lastLines(opts.logFile, 1)}`)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"msg":"listening on http:\/\/[^:]+:(\d+)"/.exec(out);
      if (m) res(`http://127.0.0.1:${m[1]}`);
      if (out.length > 100_000) out = out.slice(-10_000);
    });
  });
  child.removeAllListeners('exit');
  say(`started the engine at ${url} (pid ${child.pid}; its log: ${opts.logFile})`);
  return {
    url,
    adminKey,
    pspUrl: psp(),
    startedHere: true,
    stop: async () => {
      process.off('exit', killChild);
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
      killChild();
    },
  };
}
