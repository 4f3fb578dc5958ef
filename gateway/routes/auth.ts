import { z } from 'zod';
import type { Context } from '../../infra/context.js';
import { assertStrongPassword } from '../../storefront/passwords.js';
import { changePassword, loginUser, registerUser, userEmail } from '../../storefront/users.js';
import { issueUserToken, requireClaims } from '../auth.js';
import type { Route } from '../http.js';
import { Throttle } from '../throttle.js';

const credentials = z.object({
  email: z.string().trim().email().max(254),
  password: z.string().min(8).max(200),
});
const passwordChange = z.object({
  currentPassword: z.string().min(1).max(200),
  newPassword: z.string().min(8).max(200),
});

/** Hooks run after a successful login or register (the storefront merges an anonymous cart here). */
export type AuthHook = (userId: string, headers: Record<string, string>) => Promise<void>;

/**
 * Sign-up, sign-in (throttled: gateway/throttle.ts), sign-out of one token or of all of a user's tokens, and
 * password change (which signs out the user's other tokens). Revocation: infra/sessions.ts.
 */
export function authRoutes(ctx: Context, afterAuth: AuthHook[] = [], throttle = new Throttle(ctx)): Route[] {
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
        const userId = await registerUser(ctx.db, email, password);
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
          userId = await loginUser(ctx.db, email, password);
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
        const email = (await userEmail(ctx.db, claims.sub)) ?? undefined;
        assertStrongPassword(newPassword, email, 'newPassword');
        if (email) await throttle.checkLogin(email, ip);
        try {
          await changePassword(ctx.db, claims.sub, currentPassword, newPassword);
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
