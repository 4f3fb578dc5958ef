import { z } from 'zod';
import { isoTime } from '../infra/api-schemas.js';
import type { ApiDocs } from '../infra/openapi.js';
import { joinBody } from './routes.js';

/** The waiting room over plain HTTP (the WebSocket `/ws/sales/:id` is described in docs/waiting-room.md). */
export const waitingRoomApi: ApiDocs = {
  'POST /api/sales/:id/queue': {
    summary: 'Join the waiting room',
    tag: 'waiting room',
    auth: 'user',
    params: { id: 'the sale id' },
    body: joinBody,
    responses: {
      202: { description: 'the place in line', body: z.object({ ticket: z.number().int().nullable(), position: z.number().int().nullable(), etaSeconds: z.number().nullable() }) },
    },
    errors: ['invalid_request', 'unauthorized', 'pow_required', 'account_too_new', 'ip_limit_reached', 'not_found', 'no_waiting_room', 'sale_closed', 'queue_not_open'],
  },
  'GET /api/sales/:id/queue': {
    summary: 'The caller’s place in the waiting room',
    description: 'Poll more often than DISCONNECT_GRACE_SECONDS, or the place is lost.',
    tag: 'waiting room',
    auth: 'user',
    params: { id: 'the sale id' },
    responses: {
      200: {
        description: 'waiting (with position and ETA), admitted (with the admission token), sold_out or closed',
        body: z.object({
          status: z.enum(['waiting', 'admitted', 'sold_out', 'closed']),
          position: z.number().int().nullable(),
          etaSeconds: z.number().nullable(),
          admissionToken: z.string().optional(),
          admissionExpiresAt: isoTime.optional(),
        }),
      },
    },
    errors: ['unauthorized', 'not_found', 'no_waiting_room'],
  },
};
