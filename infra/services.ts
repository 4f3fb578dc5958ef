import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { postgresAnswers, startPostgresServer } from './postgres-server.js';
import { stopProcess, signalProcess } from './process-tools.js';
import { redisAnswers, startRedisServer } from './redis-server.js';
import { pidAlive, pruneRecord, readRecord, withLock, withLockSync, writeRecord, type ServiceEntry, type ServicesRecord } from './services-record.js';

export { redisAnswers } from './redis-server.js';
export { postgresAnswers } from './postgres-server.js';

/**
 * Redis and Postgres for every command (`start`, `seed`, `worker`, `search:reindex`, `demo`, the
 * benchmarks, the tests' global setup): the ones in REDIS_URL / DATABASE_URL when they answer, otherwise
 * the ones self-started under `dataDir` and recorded in `<dataDir>/services.json`.
 *
 * Sharing is by reference counting. The first command that needs a service starts it (in its own process
 * group, so a Ctrl-C meant for one terminal does not reach it) and records it; later commands attach to
 * what is recorded and alive. Each command adds its PID to the record's `users` and removes it on `stop()`;
 * the last user to leave stops the services, so none is stopped while another command uses it. Users and
 * services whose PIDs are gone are dropped from the record, and a dead service is started anew. All of it
 * happens under `<dataDir>/services.lock`. A command that exits without calling `stop()` (an uncaught
 * error, `process.exit`) still leaves the record from a `process.on('exit')` hook.
 */
export interface Services {
  redisUrl: string;
  databaseUrl: string;
  redisSource: 'external' | 'started' | 'shared';
  postgresSource: 'external' | 'started' | 'shared';
  /** Leaves the services: stops them when this was their last user. Safe to call twice. */
  stop: () => Promise<void>;
}

export interface ServiceOptions {
  dataDir: string;
  quiet?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Who uses them, for the record (default: the script's name). */
  command?: string;
}

type Kind = 'redis' | 'postgres';
const NAMES: Record<Kind, { exe: string; signal: NodeJS.Signals; label: string }> = {
  redis: { exe: 'redis-server', signal: 'SIGTERM', label: 'Redis' },
  postgres: { exe: 'postgres', signal: 'SIGINT', label: 'Postgres' }, // SIGINT: Postgres' fast shutdown
};

const answers = (kind: Kind, url: string) => (kind === 'redis' ? redisAnswers(url) : postgresAnswers(url));

/** A recorded service that is alive and answers (waiting a little for one that is still coming up). */
async function usable(kind: Kind, entry: ServiceEntry | undefined): Promise<boolean> {
  if (!entry || !pidAlive(entry.pid)) return false;
  for (let i = 0; i < 20; i++) {
    if (await answers(kind, entry.url)) return true;
    if (!pidAlive(entry.pid)) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

function commandName(): string {
  const script = process.argv[1]?.split('/').slice(-2).join('/') ?? 'node';
  return [script, ...process.argv.slice(2)].join(' ');
}

export async function ensureServices(opts: ServiceOptions): Promise<Services> {
  const env = opts.env ?? process.env;
  const say = (msg: string) => {
    if (!opts.quiet) process.stderr.write(`[services] ${msg}\n`);
  };
  const wanted = new Set<Kind>();
  const result: Omit<Services, 'stop'> = { redisUrl: '', databaseUrl: '', redisSource: 'external', postgresSource: 'external' };
  if (env.REDIS_CLUSTER_NODES) {
    // a Redis Cluster is the user's own (REDIS_CLUSTER_NODES wins over REDIS_URL): nothing to start
  } else if (env.REDIS_URL && (await redisAnswers(env.REDIS_URL))) result.redisUrl = env.REDIS_URL;
  else {
    if (env.REDIS_URL) say(`REDIS_URL ${env.REDIS_URL} does not answer; using our own Redis`);
    wanted.add('redis');
  }
  if (env.DATABASE_URL && (await postgresAnswers(env.DATABASE_URL))) result.databaseUrl = env.DATABASE_URL;
  else {
    if (env.DATABASE_URL) say('DATABASE_URL does not answer; using our own Postgres');
    wanted.add('postgres');
  }
  if (wanted.size === 0) return { ...result, stop: async () => {} };

  const dataDir = resolve(opts.dataDir);
  const command = opts.command ?? commandName();
  const id = randomUUID().slice(0, 8);
  await withLock(
    dataDir,
    async () => {
      const record = pruneRecord(readRecord(dataDir));
      const started: Kind[] = [];
      try {
        for (const kind of wanted) {
          const entry = record[kind];
          if (await usable(kind, entry)) {
            say(`using the ${NAMES[kind].label} that "${entry!.startedBy.command}" (pid ${entry!.startedBy.pid}) started on ${entry!.url.replace(/:[^:@/]*@/, ':***@')}`);
            result[kind === 'redis' ? 'redisSource' : 'postgresSource'] = 'shared';
          } else {
            if (entry) {
              say(`the recorded ${NAMES[kind].label} (pid ${entry.pid}) is gone; starting a new one`);
              await stopProcess(entry.pid, NAMES[kind].exe, NAMES[kind].signal);
            }
            const s = kind === 'redis' ? { ...(await startRedisServer(resolve(dataDir, 'redis'), say)), dir: resolve(dataDir, 'redis') } : await startPostgresServer(dataDir, say);
            record[kind] = { ...s, startedBy: { pid: process.pid, command }, startedAt: new Date().toISOString() };
            started.push(kind);
            say(`started ${NAMES[kind].label} on 127.0.0.1:${s.port} (pid ${s.pid}, data in ${s.dir})`);
            result[kind === 'redis' ? 'redisSource' : 'postgresSource'] = 'started';
          }
          if (kind === 'redis') result.redisUrl = record.redis!.url;
          else result.databaseUrl = record.postgres!.url;
        }
      } catch (err) {
        // Nothing half-started is left behind: what this call started is stopped again, unless others use it.
        if (record.users.length === 0) {
          for (const kind of started) {
            await stopProcess(record[kind]!.pid, NAMES[kind].exe, NAMES[kind].signal);
            delete record[kind];
          }
        }
        writeRecord(dataDir, record);
        throw err;
      }
      record.users.push({ pid: process.pid, id, command, since: new Date().toISOString() });
      writeRecord(dataDir, record);
    },
    () => say(`waiting for another command to finish starting or stopping the services of ${dataDir}`),
  );

  let left = false;
  /**
   * Removes this attachment (or, when the process is exiting, every attachment of this process) from the
   * record; returns the services to stop when no user is left.
   */
  const leave = (record: ServicesRecord, exiting: boolean): Array<[Kind, ServiceEntry]> => {
    const rest = pruneRecord(record);
    rest.users = rest.users.filter((u) => (exiting ? u.pid !== process.pid : u.id !== id));
    const toStop: Array<[Kind, ServiceEntry]> = [];
    if (rest.users.length === 0) {
      for (const kind of ['postgres', 'redis'] as Kind[]) {
        if (rest[kind]) toStop.push([kind, rest[kind]!]);
        delete rest[kind];
      }
    }
    writeRecord(dataDir, rest);
    return toStop;
  };
  const onExit = () => {
    if (left) return;
    left = true;
    withLockSync(dataDir, () => {
      for (const [kind, entry] of leave(readRecord(dataDir), true)) signalProcess(entry.pid, NAMES[kind].exe, NAMES[kind].signal);
    });
  };
  process.on('exit', onExit);
  let stopping: Promise<void> | undefined;
  return {
    ...result,
    stop: () =>
      (stopping ??= withLock(dataDir, async () => {
        if (left) return;
        for (const [kind, entry] of leave(readRecord(dataDir), false)) {
          await stopProcess(entry.pid, NAMES[kind].exe, NAMES[kind].signal);
          say(`stopped ${NAMES[kind].label} (pid ${entry.pid})`);
        }
        left = true;
        process.off('exit', onExit);
      })),
  };
}

type ProcessKind = 'psp' | 'engine';

/** What a running command of `dataDir` recorded about its PSP simulator or engine, when it is alive. */
export function recorded<K extends ProcessKind>(dataDir: string, kind: K): ServicesRecord[K] | undefined {
  const entry = readRecord(resolve(dataDir))[kind];
  return entry && pidAlive(entry.pid) ? entry : undefined;
}

/** The PSP simulator recorded for `dataDir` by a running command, when its process is alive. */
export const recordedPsp = (dataDir: string): string | undefined => recorded(dataDir, 'psp')?.url;

/**
 * Records (entry) or clears (undefined) the PSP simulator or engine this process runs for `dataDir`; the
 * entry is also cleared when the process exits.
 */
export async function recordProcess<K extends ProcessKind>(dataDir: string, kind: K, entry: Omit<NonNullable<ServicesRecord[K]>, 'pid'> | undefined): Promise<void> {
  const dir = resolve(dataDir);
  await withLock(dir, async () => {
    const record = pruneRecord(readRecord(dir));
    if (entry) (record as Record<ProcessKind, unknown>)[kind] = { ...entry, pid: process.pid };
    else if (record[kind]?.pid === process.pid) delete record[kind];
    writeRecord(dir, record);
  });
  if (entry) process.once('exit', () => clearSync(dir, kind));
}

function clearSync(dir: string, kind: ProcessKind): void {
  withLockSync(dir, () => {
    const record = readRecord(dir);
    if (record[kind]?.pid !== process.pid) return;
    delete record[kind];
    writeRecord(dir, record);
  });
}
