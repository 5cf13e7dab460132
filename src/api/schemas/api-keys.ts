import { z } from 'zod';
import { text } from '../../domain/storable-schemas';
import { MEMBERSHIP_ROLES } from '../../domain/tenant-status';

export const createApiKeyRequestSchema = z.strictObject({
  name: text()
    .trim()
    .min(1, { message: 'is required' })
    .max(100)
    .regex(/^[^\p{Cc}]*$/u, { message: 'must not contain control characters' }),
  role: z.enum(MEMBERSHIP_ROLES, { message: `must be one of ${MEMBERSHIP_ROLES.join(', ')}` }),
});

export const apiKeyPathSchema = z.strictObject({
  tenantId: z.uuid(),
  keyId: z.uuid({ message: 'must be an API key id' }),
});
