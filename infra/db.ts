import pg from 'pg';

export type Db = pg.Pool;
export type DbClient = pg.PoolClient;

// int8 (bigint) ids and counts come back as JS numbers; ours stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

/** A Postgres pool whose connections all use `schema` first on the search path. */
export function createDb(url: string, schema = 'public', max = 20): Db {
  const searchPath = schema === 'public' ? 'public' : `"${schema}",public`;
  const pool = new pg.Pool({ connectionString: url, max, options: `-c search_path=${searchPath}` });
  // An idle connection that dies (Postgres restarted or shutting down) emits 'error' on the pool, which then
  // drops it. Without a listener Node would crash the process; the context adds one that logs.
  pool.on('error', () => {});
  return pool;
}

/** Runs `fn` in one transaction; rolls back on any throw. */
export async function inTransaction<T>(db: Db, fn: (client: DbClient) => Promise<T>): Promise<T> {
  const client = await db.connect();
  // A connection that dies while checked out (Postgres restarted) emits 'error'; without a listener that
  // would crash the process. The failed query rejects anyway, so the listener only has to exist.
  const onError = () => {};
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.off('error', onError);
    client.release();
  }
}
