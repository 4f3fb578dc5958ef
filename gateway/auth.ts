import { z } from 'zod';
import { issueUserToken } from '../infra/auth.js';
import type { Context } from '../infra/context.js';
import type { Db } from '../infra/db.js';
import type { Route } from '../infra/http.js';
import type { AuthHook } from '../infra/part.js';

export const credentials = z.object({
  email: z.string().trim().email().max(254),
  password: z.string().min(8).max(200),
});

/** Where shopper accounts live (the storefront's users table); each answers the user id. */
export interface Accounts {
  register: (db: Db, email: string, password: string) => Promise<string>;
  login: (db: Db, email: string, password: string) => Promise<string>;
}

/** POST /api/auth/register and /api/auth/login: a shopper token, after every part's `afterAuth` hook. */
export function authRoutes(ctx: Context, accounts: Accounts, afterAuth: AuthHook[] = []): Route[] {
  const finish = async (userId: string, headers: Record<string, string>) => {
    for (const hook of afterAuth) await hook(userId, headers);
    return { userId, token: issueUserToken(ctx.config, userId) };
  };
  return [
    {
      method: 'post',
      path: '/api/auth/register',
      handler: async (req) => {
        const { email, password } = credentials.parse(req.body);
        const userId = await accounts.register(ctx.db, email, password);
        return { status: 201, body: await finish(userId, req.headers) };
      },
    },
    {
      method: 'post',
      path: '/api/auth/login',
      handler: async (req) => {
        const { email, password } = credentials.parse(req.body);
        const userId = await accounts.login(ctx.db, email, password);
        return { status: 200, body: await finish(userId, req.headers) };
      },
    },
  ];
}
