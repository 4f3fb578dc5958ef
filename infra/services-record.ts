import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The one file that says which self-started services run for a data directory, and who uses them:
 * `<dataDir>/services.json`. Every command that uses them adds its PID to `users` and removes it when it
 * leaves; the last one to leave stops them (reference counting). Changes are made under a lock file,
 * `<dataDir>/services.lock`, so two commands starting at once never start two Redis servers on one AOF
 * directory or two Postgres servers on one data directory.
 */
export interface ServiceEntry {
  url: string;
  pid: number;
  port: number;
  /** Where its data lives (the AOF directory or the Postgres cluster). */
  dir: string;
  /** The command that started it: its PID and argv. */
  startedBy: { pid: number; command: string };
  startedAt: string;
}

export interface ServiceUser {
  pid: number;
  /** One per attachment (a process may attach more than once, e.g. a test and its helpers). */
  id: string;
  command: string;
  since: string;
}

export interface ServicesRecord {
  redis?: ServiceEntry;
  postgres?: ServiceEntry;
  /** The PSP simulator a command of this data dir runs (not shared by counting: it lives in that command). */
  psp?: { url: string; pid: number };
  /** A running `npm start` of this data dir (the key only when it generated one), for `npm run demo`. */
  engine?: { url: string; pid: number; adminApiKey?: string };
  users: ServiceUser[];
}

export const recordFile = (dataDir: string) => join(dataDir, 'services.json');
const lockFile = (dataDir: string) => join(dataDir, 'services.lock');

export function pidAlive(pid: number | undefined): boolean {
  if (!pid || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (exited, not yet reaped by its parent) counts as gone.
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** The executable name of a running PID (`redis-server`, `postgres`), or undefined off Linux / when gone. */
export function processName(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function readRecord(dataDir: string): ServicesRecord {
  try {
    const parsed = JSON.parse(readFileSync(recordFile(dataDir), 'utf8')) as ServicesRecord;
    return { ...parsed, users: Array.isArray(parsed.users) ? parsed.users : [] };
  } catch {
    return { users: [] };
  }
}

export function writeRecord(dataDir: string, record: ServicesRecord): void {
  mkdirSync(dataDir, { recursive: true });
  if (!record.redis && !record.postgres && !record.psp && !record.engine && record.users.length === 0) {
    rmSync(recordFile(dataDir), { force: true });
    return;
  }
  const tmp = `${recordFile(dataDir)}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(record, null, 2) + '\n', { mode: 0o600 }); // it may hold a generated dev admin key
  renameSync(tmp, recordFile(dataDir));
}

/** Removes users whose process is gone and a PSP entry whose process is gone. */
export function pruneRecord(record: ServicesRecord): ServicesRecord {
  return {
    ...record,
    psp: record.psp && pidAlive(record.psp.pid) ? record.psp : undefined,
    engine: record.engine && pidAlive(record.engine.pid) ? record.engine : undefined,
    users: record.users.filter((u) => pidAlive(u.pid)),
  };
}

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Takes the lock if it is free or its holder is gone (or is this process, with `takeOwn`); true when taken. */
function tryLock(dataDir: string, takeOwn = false): boolean {
  const file = lockFile(dataDir);
  try {
    const fd = openSync(file, 'wx');
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  let holder = NaN;
  try {
    holder = Number(readFileSync(file, 'utf8'));
  } catch {
    return false; // removed meanwhile: try again
  }
  const old = (() => {
    try {
      return Date.now() - statSync(file).mtimeMs > 5_000;
    } catch {
      return false;
    }
  })();
  // A lock whose holder died (or an empty one left by a crash between open and write) is taken over.
  if ((takeOwn && holder === process.pid) || (Number.isInteger(holder) && holder > 0 ? holder !== process.pid && !pidAlive(holder) : old)) {
    rmSync(file, { force: true });
  }
  return false;
}

function unlock(dataDir: string): void {
  try {
    if (Number(readFileSync(lockFile(dataDir), 'utf8')) === process.pid) rmSync(lockFile(dataDir), { force: true });
  } catch {
    /* already gone */
  }
}

const LOCK_WAIT_MS = 180_000;

/** In-process queue per data dir: the lock file keeps other processes out, this keeps our own calls in turn. */
const turns = new Map<string, Promise<unknown>>();

/** Runs `fn` holding the data dir's lock (waiting for another command to finish starting or stopping). */
export function withLock<T>(dataDir: string, fn: () => Promise<T>, onWait?: () => void): Promise<T> {
  const previous = turns.get(dataDir) ?? Promise.resolve();
  const mine = previous.catch(() => {}).then(() => lockedRun(dataDir, fn, onWait));
  turns.set(dataDir, mine);
  void mine.finally(() => {
    if (turns.get(dataDir) === mine) turns.delete(dataDir);
  }).catch(() => {});
  return mine;
}

async function lockedRun<T>(dataDir: string, fn: () => Promise<T>, onWait?: () => void): Promise<T> {
  mkdirSync(dataDir, { recursive: true });
  const until = Date.now() + LOCK_WAIT_MS;
  let told = false;
  while (!tryLock(dataDir)) {
    if (Date.now() > until) throw new Error(`${lockFile(dataDir)} is held by another command for over ${LOCK_WAIT_MS / 1000}s`);
    if (!told) onWait?.();
    told = true;
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    return await fn();
  } finally {
    unlock(dataDir);
  }
}

/**
 * The same, synchronously (for `process.on('exit')`): waits at most `waitMs` for the lock, and takes it
 * over from this process's own unfinished async holder (which will never run again).
 */
export function withLockSync(dataDir: string, fn: () => void, waitMs = 5_000): void {
  const until = Date.now() + waitMs;
  while (!tryLock(dataDir, true)) {
    if (Date.now() > until) return;
    sleepSync(20);
  }
  try {
    fn();
  } finally {
    unlock(dataDir);
  }
}
