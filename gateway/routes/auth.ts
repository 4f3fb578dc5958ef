import { z } from 'zod';
import type { Context } from '../../infra/context.js';
import { registerUser, loginUser } from '../../storefront/users.js';
import { issueUserToken } from '../auth.js';
import type { Route } from '../http.js';

const credentials = z.object({
  email: z.string().trim().email().max(254),
  password: z.string().min(8).max(200),
});

/** Hooks run after a successful login or register (the storefront merges an anonymous cart here). */
export type AuthHook = (userId: string, headers: Record<string, string>) => Promise<void>;

export function authRoutes(ctx: Context, afterAuth: AuthHook[] = []): Route[] {
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
        const userId = await registerUser(ctx.db, email, password);
        return { status: 201, body: await finish(userId, req.headers) };
      },
    },
    {
      method: 'post',
      path: '/api/auth/login',
      handler: async (req) => {
        const { email, password } = credentials.parse(req.body);
        const userId = await loginUser(ctx.db, email, password);
        return { status: 200, body: await finish(userId, req.headers) };
      },
    },
  ];
}
