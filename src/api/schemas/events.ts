import { z } from 'zod';
import { text } from '../../domain/storable-schemas';

// Event ids are Postgres bigints: a cursor naming one outside 1..2^63-1 could only fail in the query.
const MAX_EVENT_ID = 9_223_372_036_854_775_807n;
const isEventId = (value: string) => /^[1-9]\d{0,18}$/.test(value) && BigInt(value) <= MAX_EVENT_ID;

/** Opaque to clients: the position after which the next page starts. */
export const encodeCursor = (beforeId: string) => Buffer.from(JSON.stringify({ beforeId })).toString('base64url');

const cursorSchema = text()
  .max(200)
  .transform((value, ctx) => {
    try {
      const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as { beforeId?: unknown };
      if (typeof parsed.beforeId === 'string' && isEventId(parsed.beforeId)) return parsed.beforeId;
    } catch {
      // Falls through to the issue below.
    }
    ctx.addIssue({ code: 'custom', message: 'is not a cursor this API returned' });
    return z.NEVER;
  });

// Postgres has no year 0 and JavaScript dates end in 275760: an instant outside these years can only fail the query.
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(10_000, 0, 1);
const instant = z.iso
  .datetime({ offset: true })
  .refine((value) => Date.parse(value) >= EARLIEST && Date.parse(value) < LATEST, { message: 'must be between 1970 and 9999' });

export const eventQuerySchema = z.strictObject({
  tenantId: z.uuid().optional(),
  runId: text().min(1).max(100).optional(),
  type: text()
    .regex(/^[a-z_]+(\.[a-z_]+)*(\.\*)?$/, { message: 'must be an event type such as tenant.suspended, or a prefix such as lifecycle.*' })
    .optional(),
  from: instant.optional(),
  to: instant.optional(),
  cursor: cursorSchema.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const watchQuerySchema = eventQuerySchema.pick({ tenantId: true, from: true, to: true, cursor: true, limit: true });
