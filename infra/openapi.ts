import { z } from 'zod';
import { errorStatus, type ErrorCode } from './errors.js';
import type { Method, Route } from './http.js';

/**
 * The API description of a route, kept by the part that owns the route (its `api.ts`) and turned into an
 * OpenAPI 3.1 document by `openApiDocument`. Request schemas are the zod schemas the route validates with;
 * response schemas describe what it answers. Error answers are listed by code: each code's status comes
 * from the one error table, and every error body has the one error shape.
 */
export interface RouteDoc {
  summary: string;
  description?: string;
  tag: string;
  /** Who may call it: a shopper token, the admin key, a shopper token or none, the metrics token, or anyone. */
  auth: 'user' | 'admin' | 'optional-user' | 'metrics' | 'none';
  /** Path parameters (all strings), by name: their description. */
  params?: Record<string, string>;
  query?: z.ZodObject;
  headers?: Array<{ name: string; required?: boolean; description: string; schema?: z.ZodType }>;
  body?: z.ZodType;
  /** Success answers by status; a text answer gives its content type instead of a schema. */
  responses: Record<number, { description: string; body?: z.ZodType; contentType?: string; headers?: Record<string, string> }>;
  errors: ErrorCode[];
  /** Error codes outside the engine's table (the PSP simulator's), by status. */
  otherErrors?: Record<number, string[]>;
}

/** Route docs of one part, by "METHOD /path" with the path as the route registers it (`/api/sales/:id`). */
export type ApiDocs = Record<string, RouteDoc>;

export const routeKey = (method: Method, path: string) => `${method === 'del' ? 'DELETE' : method.toUpperCase()} ${path}`;

const errorBody = z.object({
  error: z.looseObject({ code: z.string(), message: z.string(), field: z.string().optional() }),
});

const securityOf: Record<RouteDoc['auth'], Array<Record<string, string[]>> | undefined> = {
  user: [{ userToken: [] }],
  admin: [{ adminKey: [] }],
  'optional-user': [{}, { userToken: [] }],
  metrics: [{ metricsToken: [] }],
  none: [],
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const out = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

function operation(doc: RouteDoc, path: string) {
  const parameters: unknown[] = [];
  for (const name of path.split('/').filter((s) => s.startsWith(':')).map((s) => s.slice(1))) {
    parameters.push({ name, in: 'path', required: true, description: doc.params?.[name] ?? name, schema: { type: 'string' } });
  }
  if (doc.query) {
    const shape = doc.query.shape as Record<string, z.ZodType>;
    for (const [name, schema] of Object.entries(shape)) {
      parameters.push({ name, in: 'query', required: !schema.safeParse(undefined).success, schema: jsonSchema(schema, 'input') });
    }
  }
  for (const h of doc.headers ?? []) {
    parameters.push({ name: h.name, in: 'header', required: h.required ?? false, description: h.description, schema: h.schema ? jsonSchema(h.schema, 'input') : { type: 'string' } });
  }
  const responses: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(doc.responses)) {
    const content = r.body ? { 'application/json': { schema: jsonSchema(r.body, 'output') } } : r.contentType ? { [r.contentType]: { schema: { type: 'string' } } } : undefined;
    const headers = r.headers ? Object.fromEntries(Object.entries(r.headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }])) : undefined;
    responses[status] = { description: r.description, ...(content ? { content } : {}), ...(headers ? { headers } : {}) };
  }
  const byStatus = new Map<number, string[]>();
  for (const code of new Set<ErrorCode>([...doc.errors, 'internal', 'unavailable'])) {
    const status = errorStatus[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const [status, codes] of Object.entries(doc.otherErrors ?? {})) byStatus.set(Number(status), [...(byStatus.get(Number(status)) ?? []), ...codes]);
  for (const [status, codes] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    responses[String(status)] = {
      description: `error: ${codes.join(', ')}`,
      content: { 'application/json': { schema: { allOf: [{ $ref: '#/components/schemas/Error' }, { properties: { error: { properties: { code: { enum: codes } } } } }] } } },
    };
  }
  return {
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: [doc.tag],
    operationId: `${doc.tag}_${doc.summary}`.replace(/[^A-Za-z0-9]+/g, '_').replace(/_+$/, ''),
    security: securityOf[doc.auth],
    parameters,
    ...(doc.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(doc.body, 'input') } } } } : {}),
    responses,
  };
}

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

/**
 * The OpenAPI 3.1 document of the routes that have a doc. Routes without one (pages, assets) are left out;
 * a doc without a route is an error, so the document never promises a route that is not there.
 */
export function openApiDocument(routes: Route[], docs: ApiDocs, info: OpenApiInfo): Record<string, unknown> {
  const registered = new Set(routes.map((r) => routeKey(r.method, r.path)));
  for (const key of Object.keys(docs)) if (!registered.has(key)) throw new Error(`API doc for ${key}, but no such route`);
  return documentOf(docs, info);
}

/** The OpenAPI 3.1 document of these route docs (for a server whose routes are not `Route`s, the PSP simulator's). */
export function documentOf(docs: ApiDocs, info: OpenApiInfo): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [key, doc] of Object.entries(docs)) {
    const [method, path] = key.split(' ');
    const openPath = path.replace(/:(\w+)/g, '{$1}');
    (paths[openPath] ??= {})[method.toLowerCase()] = operation(doc, path);
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      schemas: { Error: jsonSchema(errorBody, 'output') },
      securitySchemes: {
        userToken: { type: 'http', scheme: 'bearer', description: 'A shopper token from /api/auth/register or /api/auth/login' },
        adminKey: { type: 'http', scheme: 'bearer', description: 'The merchant key, ADMIN_API_KEY' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN (the admin key when unset)' },
      },
    },
  };
}
