import { z } from 'zod';
import { durationMs, isDuration } from './duration';
import { jsonValue, text } from './storable-schemas';
import {
  APPROVAL_TIMEOUT_MAX_MS,
  CREDIT_AMOUNT_MAX,
  DEFAULT_APPROVAL_TIMEOUT,
  PLAN_MAX_STEPS,
  RECORD_VALUE_MAX_BYTES,
  RECORD_VALUE_MAX_DEPTH,
  STEP_KINDS,
  WAIT_MAX_MS,
  type EffectStepKind,
  type StepKind,
} from './step-catalog';

/**
 * The registry of what a run may do, as zod schemas: the API validates plans with them, activities and the workflow
 * share their inferred types (the workflow imports types only; step-catalog.ts holds the zod-free constants).
 */
export {
  APPROVAL_TIMEOUT_MAX_MS,
  CREDIT_AMOUNT_MAX,
  DEFAULT_APPROVAL_TIMEOUT,
  EFFECT_STEP_KINDS,
  PLAN_MAX_STEPS,
  RECORD_VALUE_MAX_BYTES,
  RECORD_VALUE_MAX_DEPTH,
  STEP_KINDS,
  WAIT_MAX_MS,
  WORKFLOW_STEP_KINDS,
  type EffectStepKind,
  type StepKind,
} from './step-catalog';

const recordKey = text()
  .min(1, { message: 'is required' })
  .max(200)
  .regex(/^[A-Za-z0-9._:/-]+$/, { message: 'may contain only letters, digits and . _ : / -' });

const recordValue = jsonValue({ maxDepth: RECORD_VALUE_MAX_DEPTH, maxBytes: RECORD_VALUE_MAX_BYTES });

const creditAmount = z.number().int({ message: 'must be a whole number of credits' }).min(1).max(CREDIT_AMOUNT_MAX);
const ledgerReason = text().trim().min(1).max(200).optional();

const boundedDuration = (maxMs: number) =>
  text()
    .refine(isDuration, { message: 'must be a whole number and a unit: 30s, 15m, 2h or 7d' })
    .refine((value) => !isDuration(value) || durationMs(value) <= maxMs, { message: `must be at most ${maxMs / 86_400_000} days` });

export const recordsWriteStepSchema = z.strictObject({ kind: z.literal('records.write'), key: recordKey, value: recordValue });
export const recordsDeleteStepSchema = z.strictObject({ kind: z.literal('records.delete'), key: recordKey });
export const creditsDebitStepSchema = z.strictObject({ kind: z.literal('credits.debit'), amount: creditAmount, reason: ledgerReason });
export const creditsRefundStepSchema = z.strictObject({ kind: z.literal('credits.refund'), amount: creditAmount, reason: ledgerReason });
export const waitStepSchema = z.strictObject({ kind: z.literal('wait'), duration: boundedDuration(WAIT_MAX_MS) });
export const approvalStepSchema = z.strictObject({
  kind: z.literal('approval'),
  reason: text().trim().min(1).max(500).optional(),
  timeout: boundedDuration(APPROVAL_TIMEOUT_MAX_MS).optional(),
});

export const runStepSchema = z.discriminatedUnion(
  'kind',
  [recordsWriteStepSchema, recordsDeleteStepSchema, creditsDebitStepSchema, creditsRefundStepSchema, waitStepSchema, approvalStepSchema],
  { error: () => `must be one of: ${STEP_KINDS.join(', ')}` },
);

export const runPlanSchema = z.strictObject({
  description: text().trim().min(1).max(200).optional(),
  steps: z
    .array(runStepSchema)
    .min(1, { message: 'must hold at least one step' })
    .max(PLAN_MAX_STEPS, { message: `must hold at most ${PLAN_MAX_STEPS} steps` }),
});

export type RunStep = z.infer<typeof runStepSchema>;
export type EffectStep = Extract<RunStep, { kind: EffectStepKind }>;
export type RunPlan = z.infer<typeof runPlanSchema>;
export type StepOfKind<Kind extends StepKind> = Extract<RunStep, { kind: Kind }>;

/** How long the plan itself may keep a run waiting: its waits plus its approval timeouts. */
export function plannedWaitingMs(plan: RunPlan): number {
  return plan.steps.reduce((total, step) => {
    if (step.kind === 'wait') return total + durationMs(step.duration);
    if (step.kind === 'approval') return total + durationMs(step.timeout ?? DEFAULT_APPROVAL_TIMEOUT);
    return total;
  }, 0);
}
