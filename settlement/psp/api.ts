import { z } from 'zod';
import { cents, isoTime } from '../../infra/api-schemas.js';
import { documentOf, type ApiDocs } from '../../infra/openapi.js';

/** The request bodies the simulator validates. */
export const chargeBody = z.object({
  amountCents: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  currency: z.string().regex(/^[a-z]{3}$/, 'must be a 3-letter lower-case ISO code').default('usd'),
  paymentMethod: z.string().min(1).max(100),
  metadata: z.record(z.string(), z.string().max(500)).optional(),
});
export const refundBody = z.object({ chargeId: z.string().min(1).max(100) });

const charge = z.object({
  id: z.string(),
  object: z.literal('charge'),
  idempotencyKey: z.string(),
  status: z.enum(['succeeded', 'declined']),
  amountCents: cents,
  currency: z.string(),
  paymentMethod: z.string(),
  metadata: z.record(z.string(), z.string()).optional(),
  refunded: z.boolean(),
  createdAt: isoTime,
});
const key = { name: 'Idempotency-Key', required: true, description: 'one charge or refund per key, whatever the retries' };

/** The PSP simulator's own API (served by it at GET /openapi.json). */
export const pspApi: ApiDocs = {
  'POST /v1/charges': {
    summary: 'Charge a test payment method',
    description: 'The outcome is decided by the payment method (docs/psp.md): pm_card_ok succeeds, pm_card_declined is a 402, …',
    tag: 'psp',
    auth: 'none',
    headers: [key],
    body: chargeBody,
    responses: { 200: { description: 'the charge (the same one for a repeated key)', body: charge } },
    errors: ['invalid_request', 'idempotency_conflict'],
    otherErrors: { 402: ['card_declined'] },
  },
  'GET /v1/charges': {
    summary: 'Find the charge made with an Idempotency-Key',
    tag: 'psp',
    auth: 'none',
    query: z.object({ idempotencyKey: z.string().min(1).max(255) }),
    responses: { 200: { description: 'a list of 0 or 1 charges', body: z.object({ object: z.literal('list'), data: z.array(charge) }) } },
    errors: ['invalid_request'],
  },
  'GET /v1/charges/by-key/:key': {
    summary: 'The charge made with an Idempotency-Key',
    tag: 'psp',
    auth: 'none',
    params: { key: 'the Idempotency-Key' },
    responses: { 200: { description: 'the charge', body: charge } },
    errors: ['invalid_request', 'not_found'],
  },
  'GET /v1/charges/:id': {
    summary: 'A charge',
    tag: 'psp',
    auth: 'none',
    params: { id: 'the charge id' },
    responses: { 200: { description: 'the charge', body: charge } },
    errors: ['not_found'],
  },
  'POST /v1/refunds': {
    summary: 'Refund a charge in full',
    tag: 'psp',
    auth: 'none',
    headers: [key],
    body: refundBody,
    responses: {
      200: {
        description: 'the refund',
        body: z.object({ id: z.string(), object: z.literal('refund'), status: z.literal('succeeded'), idempotencyKey: z.string(), chargeId: z.string(), amountCents: cents, createdAt: isoTime }),
      },
    },
    errors: ['invalid_request', 'not_found', 'invalid_state', 'idempotency_conflict'],
    otherErrors: { 409: ['charge_already_refunded'] },
  },
  'GET /v1/stats': {
    summary: 'Counts of charges, refunds and requests (for tests and benchmarks)',
    tag: 'psp',
    auth: 'none',
    query: z.object({ key: z.string().optional(), perKey: z.enum(['1', 'true']).optional() }),
    responses: { 200: { description: 'the counts', body: z.looseObject({ charges: z.looseObject({ created: z.number().int() }), refunds: z.number().int() }) } },
    errors: [],
  },
  'GET /healthz': {
    summary: 'Health',
    tag: 'psp',
    auth: 'none',
    responses: { 200: { description: 'up', body: z.object({ ok: z.literal(true) }) } },
    errors: [],
  },
  'GET /openapi.json': {
    summary: 'This API description',
    tag: 'psp',
    auth: 'none',
    responses: { 200: { description: 'the OpenAPI 3.1 document', body: z.looseObject({ openapi: z.string() }) } },
    errors: [],
  },
};

let text: string | undefined;
/** The simulator's OpenAPI document as JSON text (built once). */
export const pspOpenApi = () => (text ??= JSON.stringify(documentOf(pspApi, { title: 'PSP simulator', version: '1' })));
