import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/**
 * A redis-server of a test's own (never the shared one), with AOF in a temp dir, for real Redis faults:
 * `kill9()` is a SIGKILL (nothing flushed), `snapshot()` copies the AOF directory as it is now, and
 * `rollback()` kills Redis, puts the copy back and starts it again on the same port: every write
 * acknowledged after the snapshot is gone, as after a failover to a lagging replica or a restore.
 */
export interface OwnRedis {
  url: string;
  port: number;
  dir: string;
  pid: () => number | undefined;
  kill9: () => Promise<void>;
  start: () => Promise<void>;
  snapshot: () => Promise<void>;
  rollback: () => Promise<void>;
  cleanup: () => Promise<void>;
}

export interface OwnRedisOptions {
  /** appendfsync: `always` (default, the engine's own Redis) or `everysec` / `no`. */
  appendfsync?: 'always' | 'everysec' | 'no';
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export async function startOwnRedis(opts: OwnRedisOptions = {}): Promise<OwnRedis> {
  const base = await mkdtemp(join(tmpdir(), 'own-redis-'));
  const dir = join(base, 'data');
  const saved = join(base, 'snapshot');
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const start = async () => {
    if (child) return;
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', base, '--appenddirname', 'data', '--appendonly', 'yes',
      '--appendfsync', opts.appendfsync ?? 'always', '--save', '', '--maxmemory-policy', 'noeviction'];
    const c = spawn('redis-server', args, { stdio: 'ignore' });
    child = c;
    live.add(c);
    c.once('exit', () => {
      live.delete(c);
      if (child === c) child = undefined;
    });
    const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    try {
      for (let i = 0; ; i++) {
        try {
          await probe.connect();
          // Loading an AOF answers LOADING until done.
          if ((await probe.ping()) === 'PONG') break;
        } catch (err) {
          if (i > 200 || !child) throw new Error(`own redis-server on ${port} did not start: ${(err as Error).message}`);
          probe.disconnect();
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    } finally {
      probe.disconnect();
    }
  };

  const kill9 = async () => {
    const c = child;
    if (!c) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGKILL');
    await exited;
  };

  await start();
  return {
    url,
    port,
    dir,
    pid: () => child?.pid,
    kill9,
    start,
    snapshot: async () => {
      await rm(saved, { recursive: true, force: true });
      await cp(dir, saved, { recursive: true });
    },
    rollback: async () => {
      await kill9();
      await rm(dir, { recursive: true, force: true });
      await cp(saved, dir, { recursive: true });
      await start();
    },
    cleanup: async () => {
      await kill9();
      await rm(base, { recursive: true, force: true });
    },
  };
}
