import { z } from 'zod';

/** Opaque to clients: the position after which the next page starts. */
export const encodeCursor = (beforeId: string) => Buffer.from(JSON.stringify({ beforeId })).toString('base64url');

const cursorSchema = z
  .string()
  .max(200)
  .transform((value, ctx) => {
    try {
      const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as { beforeId?: unknown };
      if (typeof parsed.beforeId === 'string' && /^\d{1,19}$/.test(parsed.beforeId)) return parsed.beforeId;
    } catch {
      // Falls through to the issue below.
    }
    ctx.addIssue({ code: 'custom', message: 'is not a cursor this API returned' });
    return z.NEVER;
  });

export const eventQuerySchema = z.strictObject({
  tenantId: z.uuid().optional(),
  runId: z.string().min(1).max(100).optional(),
  type: z
    .string()
    .regex(/^[a-z_]+(\.[a-z_]+)*(\.\*)?$/, { message: 'must be an event type such as tenant.suspended, or a prefix such as lifecycle.*' })
    .optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  cursor: cursorSchema.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const watchQuerySchema = eventQuerySchema.pick({ tenantId: true, from: true, to: true, cursor: true, limit: true });
