import { z } from 'zod';
import { cents, idString, idempotencyKeyHeader, isoTime, replayedHeader } from '../infra/api-schemas.js';
import type { ApiDocs } from '../infra/openapi.js';
import { saleInput } from './lifecycle.js';
import { reserveBody } from './routes.js';

const saleStatus = z.enum(['scheduled', 'open', 'closed', 'cancelled']);

const publicSale = z.object({
  id: idString,
  productId: idString,
  name: z.string(),
  priceCents: cents,
  startsAt: isoTime,
  endsAt: isoTime,
  status: saleStatus,
  remaining: z.number().int(),
  quantity: z.number().int(),
  perUserLimit: z.number().int(),
  holdSeconds: z.number().int(),
  waitingRoom: z.boolean(),
  queueOpensAt: isoTime,
  powDifficulty: z.number().int(),
});

const admission = z.object({ batchSize: z.number().int(), intervalMs: z.number().int(), windowSeconds: z.number().int(), overAdmissionFactor: z.number() });

const adminSale = z.object({
  id: idString,
  productId: idString,
  name: z.string(),
  status: saleStatus,
  quantity: z.number().int(),
  priceCents: cents,
  startsAt: isoTime,
  endsAt: isoTime,
  perUserLimit: z.number().int(),
  holdSeconds: z.number().int(),
  waitingRoom: z.boolean(),
  admission,
  queueOpensAt: isoTime,
  powDifficulty: z.number().int(),
  accountsCreatedBefore: isoTime.nullable().describe('only accounts created before this time may queue or reserve'),
  maxAdmissionsPerIp: z.number().int().nullable().describe('at most this many different shoppers per client address'),
});

const saleDetail = adminSale.extend({
  stats: z.object({
    remaining: z.number().int(),
    held: z.number().int(),
    sold: z.number().int(),
    reconciliation: z.looseObject({ ok: z.boolean(), checkedAt: isoTime }).optional().describe('the last reconciliation report'),
  }),
});


const hold = z.object({
  reservationId: idString,
  saleId: idString,
  quantity: z.number().int(),
  status: z.enum(['held', 'paying', 'sold', 'released', 'expired']),
  expiresAt: isoTime,
  createdAt: isoTime,
});

const saleParam = { id: 'the sale id' };

/** The flash-sale core's routes: merchant sales, the public sale view, reservations. */
export const reservationApi: ApiDocs = {
  'POST /admin/sales': {
    summary: 'Schedule a flash sale',
    description: 'Allocates `quantity` units of the product to the sale; it opens at `startsAt` and closes at `endsAt`.',
    tag: 'merchant',
    auth: 'admin',
    body: saleInput,
    responses: { 201: { description: 'the scheduled sale', body: adminSale } },
    errors: ['invalid_request', 'unauthorized', 'not_found', 'conflict'],
  },
  'GET /admin/sales/:id': {
    summary: 'A sale with its live stock figures',
    tag: 'merchant',
    auth: 'admin',
    params: saleParam,
    responses: { 200: { description: 'the sale and `stats` (remaining + held + sold = quantity)', body: saleDetail } },
    errors: ['unauthorized', 'not_found'],
  },
  'POST /admin/sales/:id/close': {
    summary: 'Close a sale now',
    tag: 'merchant',
    auth: 'admin',
    params: saleParam,
    responses: { 200: { description: 'the sale is closed', body: z.object({ id: idString, status: saleStatus }) } },
    errors: ['unauthorized', 'not_found', 'invalid_state'],
  },
  'POST /admin/sales/:id/cancel': {
    summary: 'Cancel a sale',
    tag: 'merchant',
    auth: 'admin',
    params: saleParam,
    responses: { 200: { description: 'the sale is cancelled', body: z.object({ id: idString, status: saleStatus }) } },
    errors: ['unauthorized', 'not_found', 'invalid_state'],
  },
  'GET /api/sales/:id': {
    summary: 'The public view of a sale',
    tag: 'flash sale',
    auth: 'none',
    params: saleParam,
    responses: { 200: { description: 'the sale', body: publicSale } },
    errors: ['not_found'],
  },
  'POST /api/sales/:id/reservations': {
    summary: 'Reserve units (a hold)',
    description: 'Atomic in Redis: never oversells. Waiting-room sales need the `Admission-Token` the queue handed out (single use).',
    tag: 'flash sale',
    auth: 'user',
    params: saleParam,
    headers: [idempotencyKeyHeader, { name: 'Admission-Token', description: 'the signed admission token from the waiting room (waiting-room sales only)' }],
    body: reserveBody,
    responses: {
      201: { description: 'the hold', body: z.object({ reservationId: idString, quantity: z.number().int(), expiresAt: isoTime }), headers: replayedHeader },
    },
    errors: ['invalid_request', 'unauthorized', 'not_admitted', 'account_too_new', 'ip_limit_reached', 'not_found', 'sold_out', 'limit_reached', 'sale_not_open', 'idempotency_conflict'],
  },
  'GET /api/reservations/:id': {
    summary: "The caller's hold",
    tag: 'flash sale',
    auth: 'user',
    params: { id: 'the reservation id' },
    responses: { 200: { description: 'the hold', body: hold } },
    errors: ['unauthorized', 'not_found'],
  },
  'DELETE /api/reservations/:id': {
    summary: 'Release a hold',
    tag: 'flash sale',
    auth: 'user',
    params: { id: 'the reservation id' },
    responses: { 200: { description: 'released; the units are back at once', body: z.object({ reservationId: idString, status: z.literal('released') }) } },
    errors: ['unauthorized', 'not_found', 'invalid_state'],
  },
};
