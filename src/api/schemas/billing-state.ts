import { z } from 'zod';
import { text } from '../../domain/storable-schemas';
import { PLANS, SUBSCRIPTION_STATES } from '../../domain/tenant-status';

export const tenantPathSchema = z.strictObject({
  // Any 8-4-4-4-12 hex id, not only RFC 9562 versions: the seeded system tenant's id has version 0.
  tenantId: z.guid({ message: 'must be a tenant id' }),
});

export const setBillingStateRequestSchema = z.strictObject({
  subscriptionState: z.enum(SUBSCRIPTION_STATES, { message: `must be one of ${SUBSCRIPTION_STATES.join(', ')}` }),
  plan: z.enum(PLANS, { message: `must be one of ${PLANS.join(', ')}` }).optional(),
  /** Why, in the operator's words: it goes into the audit trail. */
  reason: text().trim().min(1, { message: 'is required' }).max(500),
});
