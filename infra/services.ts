/**
 * Redis and Postgres for `npm start` and `npm test`: the ones in REDIS_URL / DATABASE_URL when they answer,
 * otherwise our own under `dataDir`. (Self-start is filled in by the services work; see README.)
 */
export interface Services {
  redisUrl: string;
  databaseUrl: string;
  /** Which were started here ("external" when given by env). */
  redisSource: 'external' | 'started';
  postgresSource: 'external' | 'started';
  stop: () => Promise<void>;
}

export interface ServiceOptions {
  dataDir: string;
  quiet?: boolean;
  env?: NodeJS.ProcessEnv;
}

export async function ensureServices(opts: ServiceOptions): Promise<Services> {
  const env = opts.env ?? process.env;
  if (!env.REDIS_URL || !env.DATABASE_URL) throw new Error('self-start not implemented yet: set REDIS_URL and DATABASE_URL');
  return { redisUrl: env.REDIS_URL, databaseUrl: env.DATABASE_URL, redisSource: 'external', postgresSource: 'external', stop: async () => {} };
}
