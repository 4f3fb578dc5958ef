import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { Redis } from 'ioredis';
import { freePort, lastLines, stopProcess, waitUntil } from './process-tools.js';

/** A self-started `redis-server`: its own process group, so a Ctrl-C meant for one command does not reach it. */
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

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function ensureRedisServerBinary(say: (m: string) => void): void {
  if (onPath('redis-server')) return;
  const debianRoot = userInfo().uid === 0 && existsSync('/etc/debian_version') && onPath('apt-get');
  if (!debianRoot) {
    throw new Error(
      'redis-server is not on PATH and REDIS_URL is unset or unreachable: install Redis ' +
        '(Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis) or set REDIS_URL',
    );
  }
  say('redis-server missing: installing it with apt-get');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', 'redis-server']]) {
    const r = spawnSync('apt-get', args, { stdio: 'ignore', env });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed: install redis-server by hand or set REDIS_URL`);
  }
}

/** Stops a redis-server left on this AOF directory by a command that was killed (found by its pid file). */
export async function stopLeftoverRedis(dir: string): Promise<void> {
  const pidFile = join(dir, 'redis.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  await stopProcess(pid, 'redis-server', 'SIGTERM');
}

export async function startRedisServer(dir: string, say: (m: string) => void): Promise<{ url: string; pid: number; port: number }> {
  ensureRedisServerBinary(say);
  mkdirSync(dir, { recursive: true });
  await stopLeftoverRedis(dir);
  const port = await freePort();
  const logFile = join(dir, 'redis.log');
  const out = openSync(logFile, 'a');
  // AOF on (fsync every second) and noeviction: the queues and holds must not be dropped silently.
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec',
      '--save', '', '--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--protected-mode', 'yes',
      '--pidfile', join(dir, 'redis.pid')],
    { detached: true, stdio: ['ignore', out, out] },
  );
  closeSync(out);
  let failure: Error | undefined;
  child.on('error', (err) => (failure = new Error(`redis-server could not be run: ${err.message}`)));
  child.on('exit', (code, signal) => {
    failure ??= new Error(`redis-server exited at start (${signal ?? `code ${code}`}): ${lastLines(logFile)}`);
  });
  child.unref();
  const url = `redis://127.0.0.1:${port}`;
  await waitUntil(async () => {
    if (failure) throw failure;
    return redisAnswers(url);
  }, 'redis-server', 30_000);
  child.removeAllListeners('exit');
  child.on('exit', () => {});
  return { url, pid: child.pid!, port };
}
