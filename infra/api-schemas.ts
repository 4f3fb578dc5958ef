import { z } from 'zod';

/** Small response-schema pieces the parts' API docs share. */
export const idString = z.string().describe('an id (ids are strings on the wire)');
export const isoTime = z.string().describe('ISO-8601 UTC time');
export const cents = z.number().int().describe('integer cents');
export const idempotencyKeyHeader = { name: 'Idempotency-Key', description: '1 to 200 visible ASCII characters; a repeat with the same key answers the first result' };
export const replayedHeader = { 'idempotent-replayed': '"true" when an earlier request with the same Idempotency-Key made this result' };
