import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { ensureServices } from '../infra/services.js';

/**
 * Shared by the benchmarks. Redis and Postgres as `npm start` finds them: REDIS_URL and DATABASE_URL when
 * they answer, otherwise the self-started ones of DATA_DIR (.data/), shared through .data/services.json or
 * started here; this process leaves them when it exits (stopping them when it was their last user), also
 * on Ctrl-C. Sets REDIS_URL and DATABASE_URL for the benchmark and the processes it starts. Numeric
 * settings come from BENCH_* variables.
 */
export async function useServices(name: string): Promise<void> {
  const s = await ensureServices({ dataDir: process.env.DATA_DIR ?? '.data', command: `npm run bench:${name}` });
  process.env.REDIS_URL = s.redisUrl;
  process.env.DATABASE_URL = s.databaseUrl;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
}

/**
 * Writes bench/results/<name>.json (every figure) and bench/results/<name>.md (a short summary: a title,
 * the lines given, and where the JSON is).
 */
export function writeResults(name: string, json: unknown, summary: string[]): void {
  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  writeFileSync(new URL(`${name}.json`, dir), JSON.stringify(json, null, 2) + '\n');
  const md = [`# bench:${name.replace(/^storefront-/, 'storefront ')} (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)`, '', ...summary, '', `Every figure: \`bench/results/${name}.json\`.`, ''];
  writeFileSync(new URL(`${name}.md`, dir), md.join('\n'));
}

export const benchNumber = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);

/**
 * CPU time (ms) a process has used, user + system or system only, from /proc/<pid>/stat; undefined off Linux
 * or when the process is gone.
 */
export function cpuMs(pid: number | undefined, which: 'all' | 'sys' = 'all'): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const user = Number(fields[11]);
    const sys = Number(fields[12]);
    return (which === 'sys' ? sys : user + sys) * 10; // clock ticks of 10 ms (USER_HZ 100)
  } catch {
    return undefined;
  }
}

/** redis-server's pid when it runs on this machine (its CPU can then be measured too). */
export async function localRedisPid(redis: { info(section: string): Promise<string> }): Promise<number | undefined> {
  const pid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'redis-server' ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CPU µs per request of each of `pids` between two samples (null where not measurable). On a 2-core box the
 * server, Redis and the load generator share the cores, so their sum bounds req/s.
 */
export function cpuPerRequest(pids: Array<number | undefined>) {
  const before = pids.map((pid) => cpuMs(pid));
  return (requests: number): Array<number | null> =>
    pids.map((pid, i) => {
      const a = cpuMs(pid);
      const b = before[i];
      return a === undefined || b === undefined || requests === 0 ? null : Number((((a - b) * 1000) / requests).toFixed(1));
    });
}
