/**
 * Shared by the benchmarks: they start no services of their own, so they use REDIS_URL and DATABASE_URL,
 * defaulting to the local Redis and Postgres; numeric settings come from BENCH_* variables.
 */
export function useLocalServices(env: NodeJS.ProcessEnv = process.env): void {
  env.REDIS_URL ??= 'redis://127.0.0.1:6379';
  env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/test';
}

export const benchNumber = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
