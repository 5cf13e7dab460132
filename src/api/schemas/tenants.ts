import { z } from 'zod';
import { text } from '../../domain/storable-schemas';
import { MAX_RETENTION_DAYS } from '../../domain/lifecycle';

export { tenantPathSchema } from './billing-state';

/** Why, in the operator's words: it goes into the audit trail and the workflow's history. */
const reason = text().trim().min(1, { message: 'is required' }).max(500);

export const lifecycleChangeSchema = z.strictObject({ reason });

export const softDeleteSchema = z.strictObject({
  reason,
  retentionDays: z
    .number({ message: 'must be a whole number of days' })
    .int({ message: 'must be a whole number of days' })
    .min(1, { message: 'must be at least 1' })
    .max(MAX_RETENTION_DAYS, { message: `must be at most ${MAX_RETENTION_DAYS}` })
    .optional(),
});

export const stalledOnboardingQuerySchema = z.strictObject({
  olderThanHours: z.coerce.number({ message: 'must be a number of hours' }).int().min(0).max(8760).optional(),
  limit: z.coerce.number({ message: 'must be a number' }).int().min(1).max(500).default(100),
});
