import type { Redis } from '../infra/redis.js';
import { holdRecordText, parseHoldRecord, type HoldStatus, type SaleKeys } from '../reservation/index.js';

/** Test helpers for hold records (reservation/keys.ts `records`); not a test file itself. */

export async function holdStatus(redis: Redis, k: Pick<SaleKeys, 'records'>, rid: string): Promise<HoldStatus | null> {
  return parseHoldRecord(await redis.hget(k.records, rid))?.status ?? null;
}

/** Sets a hold's status the way a script would (the record's other fields stay). */
export async function setHoldStatus(redis: Redis, k: Pick<SaleKeys, 'records'>, rid: string, status: HoldStatus): Promise<void> {
  const h = parseHoldRecord(await redis.hget(k.records, rid));
  if (!h) throw new Error(`no hold record ${rid}`);
  await redis.hset(k.records, rid, holdRecordText({ ...h, status }));
}

/** The events of a sale's stream one reservation at a time (an entry may list several), as "type rid userId quantity". */
export async function eventsByReservation(redis: Redis, k: Pick<SaleKeys, 'events'>): Promise<string[]> {
  const out: string[] = [];
  for (const [, fields] of await redis.xrange(k.events, '-', '+')) {
    const f: Record<string, string> = {};
    for (let i = 0; i < fields.length; i += 2) f[fields[i]] = fields[i + 1];
    const rids = f.rid.split(' ');
    const users = f.userId.split(' ');
    const qtys = f.quantity.split(' ');
    rids.forEach((rid, i) => out.push(`${f.type} ${rid} ${users[i]} ${qtys[i]}`));
  }
  return out;
}
