import type { Config } from './config.js';
import type { Db } from './db.js';

/**
 * This deployment's id: DEPLOYMENT_ID when set, else the one made by migration 006 in this database schema.
 * It prefixes every PSP idempotency key (settlement/psp-client.ts), so two deployments sharing one PSP
 * account never get each other's charge back for the same reservation or checkout id.
 */
export async function deploymentId(db: Db, config: Pick<Config, 'deploymentId'>): Promise<string> {
  if (config.deploymentId) return config.deploymentId;
  const { rows } = await db.query<{ id: string }>('SELECT id FROM deployment LIMIT 1');
  if (!rows[0]) throw new Error('no deployment id: run the migrations (table deployment is empty)');
  return rows[0].id;
}

/** The idempotency key the PSP sees for one of ours. */
export const pspKey = (deployment: string, key: string): string => `${deployment}:${key}`;
