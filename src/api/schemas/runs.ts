import { z } from 'zod';
import { text } from '../../domain/storable-schemas';

export { runPlanSchema } from '../../domain/step-kinds';

export const runParamsSchema = z.strictObject({ runId: z.uuid({ message: 'must be a run id (a uuid)' }) });

/** Optional: a retried POST with the same key lands on the same run instead of starting another. */
export const idempotencyKeyHeaderSchema = z.object({
  'idempotency-key': text()
    .min(1)
    .max(200)
    .regex(/^[\x21-\x7e]+$/, { message: 'must be printable ASCII without spaces' })
    .optional(),
});

/** The answer to a submitted plan: where to follow the run. */
export const runAcceptedSchema = z.object({
  runId: z.uuid(),
  workflowId: z.string(),
  phase: z.literal('CREATED'),
  /** True when this Idempotency-Key had already started the run. */
  duplicate: z.boolean(),
  /** The run's URL (also in Location). */
  status: z.string(),
});

export const approvalRequestSchema = z.strictObject({
  /** The approval the caller saw (`step:<n>` or `governance`); refused if the run now waits for another. */
  approvalKey: text().regex(/^(step:\d{1,2}|governance)$/, { message: 'must be step:<index> or governance' }).optional(),
  note: text().trim().min(1).max(500).optional(),
});

export const operatorOverrideSchema = z.strictObject({
  reason: text().trim().min(1, { message: 'is required' }).max(500),
});
