import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * The simulator's durable memory: every charge, refund and consumed "flaky first attempt", keyed by the
 * Idempotency-Key it was made under. Kept in memory and in one append-only JSON-lines file
 * (`<dataDir>/psp-log.jsonl`), loaded on start. Writes are group-committed: lines appended while a write
 * is in flight wait for the next write, and every write ends with fdatasync, so one fsync covers many
 * charges. A record is visible in memory at once (so a concurrent request with the same key finds it), but
 * nobody is told about it before `durable` resolves.
 */
export interface ChargeRecord {
  id: string;
  idempotencyKey: string;
  status: 'succeeded' | 'declined';
  amountCents: number;
  currency: string;
  paymentMethod: string;
  metadata: Record<string, string>;
  createdAt: string;
  refundId?: string;
}

export interface RefundRecord {
  id: string;
  idempotencyKey: string;
  chargeId: string;
  amountCents: number;
  createdAt: string;
}

type LogLine =
  | ({ t: 'charge' } & ChargeRecord)
  | ({ t: 'refund' } & RefundRecord)
  | { t: 'flaky'; key: string };

export const LOG_FILE = 'psp-log.jsonl';

/** Random ids from a pooled buffer: one randomBytes call per 4,096 ids instead of one per id. */
let idPool = Buffer.alloc(0);
let idOffset = 0;
function newId(prefix: string): string {
  if (idOffset + 12 > idPool.length) {
    idPool = randomBytes(12 * 4096);
    idOffset = 0;
  }
  idOffset += 12;
  return `${prefix}_${idPool.toString('base64url', idOffset - 12, idOffset)}`;
}
const RESOLVED = Promise.resolve();

/** Group-committed appends to one file: one write + fdatasync per batch of lines. */
class AppendLog {
  private pending: string[] = [];
  private waiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  private flushing = false;
  private failed: Error | undefined;

  constructor(private readonly fh: FileHandle) {}

  append(line: string): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    this.pending.push(line);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.flushing) void this.flush();
    return done;
  }

  get broken(): Error | undefined {
    return this.failed;
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    // Let the current burst of requests (same event-loop turn) join the first batch.
    await new Promise((r) => setImmediate(r));
    while (this.pending.length) {
      const text = this.pending.join('');
      const waiters = this.waiters;
      this.pending = [];
      this.waiters = [];
      try {
        await this.fh.write(text);
        await this.fh.datasync();
        for (const w of waiters) w.resolve();
      } catch (err) {
        // A record that did not reach the disk must never be acknowledged; refuse everything from now on.
        this.failed = err as Error;
        for (const w of [...waiters, ...this.waiters]) w.reject(this.failed);
        this.pending = [];
        this.waiters = [];
      }
    }
    this.flushing = false;
  }

  async close(): Promise<void> {
    while (this.flushing) await new Promise((r) => setTimeout(r, 2));
    await this.fh.close();
  }
}

export class PspStore {
  private readonly byKey = new Map<string, ChargeRecord>();
  private readonly byId = new Map<string, ChargeRecord>();
  private readonly refundsByKey = new Map<string, RefundRecord>();
  private readonly flakyUsed = new Set<string>();
  /** Records not yet on disk: the promise resolves when they are. */
  private readonly inFlight = new WeakMap<object, Promise<void>>();
  readonly counts = { succeeded: 0, declined: 0, refunded: 0 };

  private constructor(
    private readonly log: AppendLog,
    private readonly unlock: () => Promise<void>,
  ) {}

  /** Opens (creating if needed) the store in `dataDir` and replays its log. */
  static async open(dataDir: string): Promise<PspStore> {
    await mkdir(dataDir, { recursive: true });
    const unlock = await lockDir(dataDir);
    const path = join(dataDir, LOG_FILE);
    const fh = await open(path, 'a+');
    await dropTornTail(fh);
    const store = new PspStore(new AppendLog(fh), unlock);
    const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
    let n = 0;
    for await (const line of lines) {
      n++;
      if (!line.trim()) continue;
      let parsed: LogLine;
      try {
        parsed = JSON.parse(line) as LogLine;
      } catch {
        throw new Error(`${path}: line ${n} is not valid JSON; refusing to start on a damaged log`);
      }
      store.apply(parsed);
    }
    return store;
  }

  private apply(line: LogLine): void {
    if (line.t === 'charge') {
      const { t: _t, ...charge } = line;
      this.byKey.set(charge.idempotencyKey, charge);
      this.byId.set(charge.id, charge);
      this.counts[charge.status]++;
    } else if (line.t === 'refund') {
      const { t: _t, ...refund } = line;
      this.refundsByKey.set(refund.idempotencyKey, refund);
      const charge = this.byId.get(refund.chargeId);
      if (charge && !charge.refundId) {
        charge.refundId = refund.id;
        this.counts.refunded++;
      }
    } else if (line.t === 'flaky') {
      this.flakyUsed.add(line.key);
    }
  }

  private write(line: LogLine, record: object): Promise<void> {
    this.apply(line);
    const durable = this.log.append(JSON.stringify(line) + '\n');
    this.inFlight.set(record, durable);
    return durable;
  }

  /** Resolves once the record is on disk (at once for records loaded from disk). */
  durable(record: object): Promise<void> {
    return this.inFlight.get(record) ?? RESOLVED;
  }

  get broken(): Error | undefined {
    return this.log.broken;
  }

  chargeByKey(key: string): ChargeRecord | undefined {
    return this.byKey.get(key);
  }

  chargeById(id: string): ChargeRecord | undefined {
    return this.byId.get(id);
  }

  refundByKey(key: string): RefundRecord | undefined {
    return this.refundsByKey.get(key);
  }

  get chargeCount(): number {
    return this.byKey.size;
  }

  get refundCount(): number {
    return this.refundsByKey.size;
  }

  createCharge(fields: Omit<ChargeRecord, 'id' | 'createdAt'>): ChargeRecord {
    const charge: ChargeRecord = { id: newId('ch'), ...fields, createdAt: new Date().toISOString() };
    void this.write({ t: 'charge', ...charge }, charge).catch(() => {});
    return charge;
  }

  createRefund(charge: ChargeRecord, idempotencyKey: string): RefundRecord {
    const refund: RefundRecord = {
      id: newId('re'),
      idempotencyKey,
      chargeId: charge.id,
      amountCents: charge.amountCents,
      createdAt: new Date().toISOString(),
    };
    void this.write({ t: 'refund', ...refund }, refund).catch(() => {});
    return refund;
  }

  /** True when the key's one scripted failure (pm_card_flaky) has been used up. */
  flakyConsumed(key: string): boolean {
    return this.flakyUsed.has(key);
  }

  consumeFlaky(key: string): Promise<void> {
    const marker = { key };
    return this.write({ t: 'flaky', key }, marker);
  }

  async close(): Promise<void> {
    await this.log.close();
    await this.unlock();
  }
}

/**
 * One simulator per data dir: two processes appending to one log would each miss the other's keys. The lock
 * file holds the owner's pid; a lock whose owner is gone (killed) is taken over.
 */
async function lockDir(dataDir: string): Promise<() => Promise<void>> {
  const path = join(dataDir, 'psp.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      return () => rm(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (owner && owner !== process.pid && isAlive(owner)) {
        throw new Error(`PSP data dir ${dataDir} is in use by process ${owner}`);
      }
      await rm(path, { force: true }); // stale: its owner died
    }
  }
  throw new Error(`cannot lock PSP data dir ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A crash can leave half a line at the end of the log; cut it off so appends start on a line boundary. */
async function dropTornTail(fh: FileHandle): Promise<void> {
  const { size } = await fh.stat();
  if (size === 0) return;
  const tail = Buffer.alloc(Math.min(size, 64 * 1024));
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - tail.length);
    const { bytesRead } = await fh.read(tail, 0, end - start, start);
    const nl = tail.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (nl >= 0) {
      const keep = start + nl + 1;
      if (keep !== size) await fh.truncate(keep);
      return;
    }
    end = start;
  }
  await fh.truncate(0);
}
