import { readFileSync } from 'node:fs';

/**
 * Shared by the benchmarks: they start no services of their own, so they use REDIS_URL and DATABASE_URL,
 * defaulting to the local Redis and Postgres; numeric settings come from BENCH_* variables.
 */
export function useLocalServices(env: NodeJS.ProcessEnv = process.env): void {
  env.REDIS_URL ??= 'redis://127.0.0.1:6379';
  env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/test';
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
