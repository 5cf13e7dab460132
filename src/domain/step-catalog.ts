/**
 * The step kinds and their limits without zod, so workflow code can use them (the zod schemas in step-kinds.ts build
 * on these). An effect kind changes tenant data and has a compensation; a workflow kind waits and changes nothing.
 */
export const EFFECT_STEP_KINDS = ['records.write', 'records.delete', 'credits.debit', 'credits.refund'] as const;
export const WORKFLOW_STEP_KINDS = ['wait', 'approval'] as const;
export const STEP_KINDS = [...EFFECT_STEP_KINDS, ...WORKFLOW_STEP_KINDS] as const;
export type EffectStepKind = (typeof EFFECT_STEP_KINDS)[number];
export type StepKind = (typeof STEP_KINDS)[number];

export const isEffectStepKind = (kind: StepKind): kind is EffectStepKind => (EFFECT_STEP_KINDS as readonly StepKind[]).includes(kind);

/** A hard ceiling for every tenant; a tenant's own max_steps policy rule can only lower it. */
export const PLAN_MAX_STEPS = 20;
export const RECORD_VALUE_MAX_BYTES = 8 * 1024;
/** Deep enough for any real document, shallow enough that nothing downstream recurses into trouble. */
export const RECORD_VALUE_MAX_DEPTH = 32;
export const CREDIT_AMOUNT_MAX = 1_000_000;
export const WAIT_MAX_MS = 7 * 86_400_000;
export const APPROVAL_TIMEOUT_MAX_MS = 30 * 86_400_000;
export const DEFAULT_APPROVAL_TIMEOUT = '24h';
