import { z } from 'zod';
import { RUN_FAILURE_TYPES, type RunFailureType } from '../../contracts/run';
import { GATES } from '../../domain/gate-decision';
import { RUN_PHASES } from '../../domain/run-phase';
import { STEP_KINDS } from '../../domain/step-kinds';
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

const runStepStatusSchema = z.object({
  index: z.number().int(),
  kind: z.enum(STEP_KINDS),
  state: z.enum(['pending', 'running', 'completed', 'failed', 'compensating', 'compensated', 'skipped']),
  error: z.string().optional(),
});

const runCauseSchema = z.object({
  type: z.enum(RUN_FAILURE_TYPES as [RunFailureType, ...RunFailureType[]]),
  message: z.string(),
  stepIndex: z.number().int().optional(),
  gate: z.enum(GATES).optional(),
  actor: z.string().optional(),
  errorType: z.string().optional(),
  violations: z.array(z.string()).optional(),
});

/** Who submitted a run: the audit actor, the person behind it and the key it came through (null when unknown or none). */
export const runSubmitterSchema = z.object({
  actor: z.string(),
  userId: z.uuid().nullable(),
  apiKeyId: z.uuid().nullable(),
});

/** One decision taken on one of the run's approvals: who (audit actor), what, when, and their note. */
export const runDecisionSchema = z.object({
  approvalKey: z.string(),
  decision: z.enum(['approved', 'rejected']),
  actor: z.string(),
  note: z.string().nullable(),
  at: z.iso.datetime(),
});

/** `GET /api/v1/runs/{runId}`: the run's state, who submitted it, and who decided what it waited for. */
export const runViewSchema = z.object({
  runId: z.uuid(),
  tenantId: z.uuid(),
  phase: z.enum(RUN_PHASES),
  outcome: z.enum(['completed', 'failed']).nullable(),
  steps: z.array(runStepStatusSchema),
  cause: runCauseSchema.nullable(),
  degraded: z.boolean(),
  rollingBack: z.boolean(),
  pendingApproval: z.object({ key: z.string(), reason: z.string(), deadline: z.iso.datetime() }).nullable(),
  override: z.object({ actor: z.string(), reason: z.string(), skippedSteps: z.array(z.number().int()), skippedGovernance: z.boolean() }).nullable(),
  createdAt: z.iso.datetime().optional(),
  finishedAt: z.iso.datetime().nullable().optional(),
  /** Null only for a run whose opening record is not written yet. */
  submittedBy: runSubmitterSchema.nullable(),
  decisions: z.array(runDecisionSchema),
});

/** The answer to an approve or reject the run took. */
export const approvalAnswerSchema = z.object({
  runId: z.uuid(),
  approvalKey: z.string(),
  decision: z.enum(['approved', 'rejected']),
});
