import { z } from 'zod';
import { issueUserToken, requireClaims } from '../infra/auth.js';
import type { Context } from '../infra/context.js';
import type { Db } from '../infra/db.js';
import type { Route } from '../infra/http.js';
import type { AuthHook } from '../infra/part.js';
import { assertStrongPassword } from '../infra/passwords.js';
import { Throttle } from '../infra/throttle.js';

export const credentials = z.object({
  email: z.string().trim().email().max(254),
  password: z.string().min(8).max(200),
});
export const passwordChange = z.object({
  currentPassword: z.string().min(1).max(200),
  newPassword: z.string().min(8).max(200),
});

/** Where shopper accounts live (the storefront's users table); each answers the user id. */
export interface Accounts {
  register: (db: Db, email: string, password: string) => Promise<string>;
  login: (db: Db, email: string, password: string) => Promise<string>;
  /** Checks the current password (401 when wrong) and sets the new one. */
  changePassword: (db: Db, userId: string, currentPassword: string, newPassword: string) => Promise<void>;
  email: (db: Db, userId: string) => Promise<string | null>;
}

/**
 * POST /api/auth/register and /api/auth/login (a shopper token, after every part's `afterAuth` hook;
 * throttled: infra/throttle.ts), /api/auth/logout and /logout-all (revoke one token or all of the user's),
 * and /api/auth/password (which revokes the user's other tokens). Revocation: infra/sessions.ts.
 */
export function authRoutes(ctx: Context, accounts: Accounts, afterAuth: AuthHook[] = [], throttle = new Throttle(ctx)): Route[] {
  ctx.onClose(() => throttle.close());
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
        assertStrongPassword(password, email);
        await throttle.register(req.ip);
        const userId = await accounts.register(ctx.db, email, password);
        return { status: 201, body: await finish(userId, req.headers) };
      },
    },
    {
      method: 'post',
      path: '/api/auth/login',
      handler: async (req) => {
        const { email, password } = credentials.parse(req.body);
        const ip = req.ip;
        await throttle.checkLogin(email, ip);
        let userId: string;
        try {
          userId = await accounts.login(ctx.db, email, password);
        } catch (err) {
          await throttle.loginFailed(email, ip);
          throw err;
        }
        await throttle.loginSucceeded(email, ip);
        return { status: 200, body: await finish(userId, req.headers) };
      },
    },
    {
      method: 'post',
      path: '/api/auth/logout',
      handler: async (req) => {
        const claims = requireClaims(ctx, req);
        if (typeof claims.sid === 'string') await ctx.sessions.revokeToken(claims.sid, claims.exp * 1000);
        else await ctx.sessions.revokeUser(claims.sub); // a token from before session ids: only all can go
        return { status: 204 };
      },
    },
    {
      method: 'post',
      path: '/api/auth/logout-all',
      handler: async (req) => {
        const claims = requireClaims(ctx, req);
        await ctx.sessions.revokeUser(claims.sub);
        return { status: 204 };
      },
    },
    {
      method: 'post',
      path: '/api/auth/password',
      handler: async (req) => {
        const claims = requireClaims(ctx, req);
        const { currentPassword, newPassword } = passwordChange.parse(req.body);
        const ip = req.ip; // before the first await
        const email = (await accounts.email(ctx.db, claims.sub)) ?? undefined;
        assertStrongPassword(newPassword, email, 'newPassword');
        if (email) await throttle.checkLogin(email, ip);
        try {
          await accounts.changePassword(ctx.db, claims.sub, currentPassword, newPassword);
        } catch (err) {
          if (email) await throttle.loginFailed(email, ip);
          throw err;
        }
        await ctx.sessions.revokeUser(claims.sub, typeof claims.sid === 'string' ? claims.sid : '');
        return { status: 204 };
      },
    },
  ];
}
