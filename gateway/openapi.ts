import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { Route } from '../infra/http.js';
import { openApiDocument, type ApiDocs } from '../infra/openapi.js';
import { credentials, passwordChange } from './auth.js';

const session = z.object({ userId: z.string(), token: z.string().describe('the shopper token: Authorization: Bearer <token>') });

/** The gateway's own routes: sign-up and sign-in, health, metrics and this document. */
export const gatewayApi: ApiDocs = {
  'POST /api/auth/register': {
    summary: 'Create a shopper account',
    tag: 'auth',
    auth: 'none',
    headers: [{ name: 'X-Cart-Token', description: 'an anonymous cart to merge into the new account' }],
    body: credentials,
    responses: { 201: { description: 'the account and its token', body: session } },
    errors: ['invalid_request', 'weak_password', 'email_taken', 'too_many_requests'],
  },
  'POST /api/auth/login': {
    summary: 'Sign in',
    tag: 'auth',
    auth: 'none',
    headers: [{ name: 'X-Cart-Token', description: 'an anonymous cart to merge into the account' }],
    body: credentials,
    responses: { 200: { description: 'the account and a new token', body: session } },
    errors: ['invalid_request', 'unauthorized', 'too_many_requests'],
  },
  'POST /api/auth/logout': {
    summary: 'Sign out: revoke the presented token',
    tag: 'auth',
    auth: 'user',
    responses: { 204: { description: 'the token no longer works' } },
    errors: ['unauthorized'],
  },
  'POST /api/auth/logout-all': {
    summary: "Revoke every token of the user",
    tag: 'auth',
    auth: 'user',
    responses: { 204: { description: "none of the user's tokens works any more" } },
    errors: ['unauthorized'],
  },
  'POST /api/auth/password': {
    summary: 'Change the password',
    description: "Checks the current password, sets the new one and revokes the user's other tokens (the presented one keeps working).",
    tag: 'auth',
    auth: 'user',
    body: passwordChange,
    responses: { 204: { description: 'changed' } },
    errors: ['invalid_request', 'weak_password', 'unauthorized', 'too_many_requests'],
  },
  'GET /healthz': {
    summary: 'Health',
    description: '200 while Redis and Postgres answer, 503 otherwise.',
    tag: 'operations',
    auth: 'none',
    responses: { 200: { description: 'healthy', body: z.object({ ok: z.literal(true) }) } },
    errors: [],
  },
  'GET /metrics': {
    summary: 'Prometheus metrics of this process',
    tag: 'operations',
    auth: 'metrics',
    responses: { 200: { description: 'the Prometheus text format', contentType: 'text/plain; version=0.0.4; charset=utf-8' } },
    errors: ['unauthorized'],
  },
  'GET /openapi.json': {
    summary: 'This API description',
    tag: 'operations',
    auth: 'none',
    responses: { 200: { description: 'the OpenAPI 3.1 document', body: z.looseObject({ openapi: z.string() }) } },
    errors: [],
  },
};

const swaggerDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Flash-sale engine API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div><script src="/docs/swagger-ui-bundle.js"></script><script src="/docs/init.js"></script></body></html>`;
const INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true });`;
// Swagger UI styles its widgets inline; scripts stay same-origin files.
const DOCS_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'";

function asset(path: string, contentType: string, body: () => string | Buffer): Route {
  let cached: string | Buffer | undefined;
  return {
    method: 'get',
    path,
    handler: () => ({ status: 200, raw: (cached ??= body()), headers: { 'content-type': contentType, 'cache-control': 'public, max-age=3600', 'content-security-policy': DOCS_CSP } }),
  };
}

/**
 * GET /openapi.json (built once, from every registered route that has a doc) and GET /docs, the API
 * reference rendered by Swagger UI from npm, served from this process (no CDN).
 */
export function apiDocRoutes(routes: Route[], docs: ApiDocs): Route[] {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  let doc: string | undefined;
  const own: Route[] = [
    {
      method: 'get',
      path: '/openapi.json',
      handler: () => ({ status: 200, raw: (doc ??= JSON.stringify(openApiDocument([...routes, ...own], docs, { title: 'Flash-sale engine', version }))), headers: { 'content-type': 'application/json' } }),
    },
    asset('/docs', 'text/html; charset=utf-8', () => PAGE),
    asset('/docs/init.js', 'text/javascript', () => INIT),
    asset('/docs/swagger-ui.css', 'text/css', () => readFileSync(join(swaggerDir, 'swagger-ui.css'))),
    asset('/docs/swagger-ui-bundle.js', 'text/javascript', () => readFileSync(join(swaggerDir, 'swagger-ui-bundle.js'))),
  ];
  return own;
}
