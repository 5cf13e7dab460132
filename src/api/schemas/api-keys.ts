import { z } from 'zod';
import { text } from '../../domain/storable-schemas';
import { MEMBERSHIP_ROLES } from '../../domain/tenant-status';

// JavaScript dates end in 275760 and Postgres's display in 294276: a later expiry could only fail the insert.
const LATEST_EXPIRY = Date.UTC(10_000, 0, 1);

export const createApiKeyRequestSchema = z.strictObject({
  name: text()
    .trim()
    .min(1, { message: 'is required' })
    .max(100)
    .regex(/^[^\p{Cc}]*$/u, { message: 'must not contain control characters' }),
  role: z.enum(MEMBERSHIP_ROLES, { message: `must be one of ${MEMBERSHIP_ROLES.join(', ')}` }),
  /** When the key stops working on its own; without it, it works until revoked or its creator loses their standing. */
  expiresAt: z.iso
    .datetime({ offset: true, message: 'must be an ISO 8601 date-time with an offset' })
    .refine((value) => Date.parse(value) > Date.now(), { message: 'must be in the future' })
    .refine((value) => Date.parse(value) < LATEST_EXPIRY, { message: 'must be before the year 10000' })
    .optional(),
});

export const apiKeyPathSchema = z.strictObject({
  tenantId: z.uuid(),
  keyId: z.uuid({ message: 'must be an API key id' }),
});

export const reownApiKeyRequestSchema = z.strictObject({
  userId: z.uuid({ message: 'must be the user id of a member' }),
});

const apiKeySummarySchema = z.object({
  id: z.uuid(),
  name: z.string(),
  role: z.enum(MEMBERSHIP_ROLES),
  prefix: z.string(),
  createdBy: z.string(),
  creator: z.object({ userId: z.uuid(), email: z.string().nullable() }).nullable(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});

export const apiKeySchema = apiKeySummarySchema;
export const apiKeyListSchema = z.object({ items: z.array(apiKeySummarySchema) });
export const createdApiKeySchema = apiKeySummarySchema.extend({ key: z.string() });
