import { z } from 'zod';
import { allow, block, type GateDecision } from './gate-decision';
import { LIFECYCLE_POLICY } from './lifecycle-policy';
import { PLAN_MAX_STEPS, STEP_KINDS, type StepKind } from './step-kinds';
import type { TenantStatus } from './tenant-status';

/**
 * A tenant's run policy: at most one active row per rule in `policy_rule`. The kernel reads the active rules at
 * authorisation, before every step and at the governance check; any change between two reads halts the run.
 */
export const POLICY_RULE_PARAMS = {
  max_debit_total: z.strictObject({ limit: z.number().int().min(0) }),
  forbidden_step_kinds: z.strictObject({ kinds: z.array(z.enum(STEP_KINDS)).min(1) }),
  max_steps: z.strictObject({ limit: z.number().int().min(1).max(PLAN_MAX_STEPS) }),
  require_approval_over_debit: z.strictObject({
    threshold: z.number().int().min(0),
    timeoutSeconds: z.number().int().min(1).max(30 * 86_400).default(86_400),
  }),
  /** API keys of an admin role may approve and reject runs; never one their creator submitted (four eyes). */
  allow_api_key_approval: z.strictObject({}),
} as const;

export type PolicyRuleName = keyof typeof POLICY_RULE_PARAMS;
export const POLICY_RULE_NAMES = Object.keys(POLICY_RULE_PARAMS) as PolicyRuleName[];

/**
 * Rules about who may decide a run, not about what a run may do: the decision reads them when it is taken, so
 * changing one leaves the policy fingerprint, and the runs in flight under it, alone.
 */
export const APPROVAL_AUTHORITY_RULES: readonly PolicyRuleName[] = ['allow_api_key_approval'];
export const governsExecution = (rule: string): boolean => !APPROVAL_AUTHORITY_RULES.includes(rule as PolicyRuleName);
export type PolicyRuleParams<Name extends PolicyRuleName> = z.infer<(typeof POLICY_RULE_PARAMS)[Name]>;

export interface RunPolicy {
  maxDebitTotal?: number;
  forbiddenStepKinds?: StepKind[];
  maxSteps?: number;
  requireApprovalOverDebit?: { threshold: number; timeoutSeconds: number };
  allowApiKeyApproval?: boolean;
}

/** Builds the policy from stored rows; a row whose params no longer parse is a bug in whoever wrote it, so it throws. */
export function runPolicyFromRules(rules: Array<{ rule: string; params: unknown }>): RunPolicy {
  const policy: RunPolicy = {};
  for (const { rule, params } of rules) {
    switch (rule) {
      case 'max_debit_total':
        policy.maxDebitTotal = POLICY_RULE_PARAMS.max_debit_total.parse(params).limit;
        break;
      case 'forbidden_step_kinds':
        policy.forbiddenStepKinds = POLICY_RULE_PARAMS.forbidden_step_kinds.parse(params).kinds;
        break;
      case 'max_steps':
        policy.maxSteps = POLICY_RULE_PARAMS.max_steps.parse(params).limit;
        break;
      case 'require_approval_over_debit':
        policy.requireApprovalOverDebit = POLICY_RULE_PARAMS.require_approval_over_debit.parse(params);
        break;
      case 'allow_api_key_approval':
        POLICY_RULE_PARAMS.allow_api_key_approval.parse(params);
        policy.allowApiKeyApproval = true;
        break;
      default:
        throw new Error(`unknown policy rule ${rule}`);
    }
  }
  return policy;
}

/** The lifecycle gate: tenant.status, read from Postgres, through the one lifecycle policy table. */
export function lifecycleGate(status: TenantStatus | undefined): GateDecision {
  if (status === undefined) return block('lifecycle', 'the tenant does not exist');
  return LIFECYCLE_POLICY[status].allowsSdkExecution ? allow('lifecycle') : block('lifecycle', `the tenant is ${status}`);
}

/** The step-count limit at the execution boundary: the tenant's max_steps rule, or the global ceiling. */
export function stepCountGate(stepCount: number, policy: RunPolicy): GateDecision {
  const limit = Math.min(policy.maxSteps ?? PLAN_MAX_STEPS, PLAN_MAX_STEPS);
  return stepCount <= limit
    ? allow('governance', `${stepCount} of at most ${limit} steps`)
    : block('governance', `the plan has ${stepCount} steps; the tenant's policy allows at most ${limit}`);
}

/** What the governance check looks at: what the run actually did, read back from the tenant's data. */
export interface RunResults {
  executedKinds: StepKind[];
  totalDebited: number;
}

export type GovernanceVerdict =
  | { outcome: 'pass'; violations: [] }
  | { outcome: 'reject'; violations: string[] }
  | { outcome: 'approval_required'; violations: []; reason: string; timeoutSeconds: number };

/** Hard limits reject; the approval rule only asks a tenant admin, and only when nothing was rejected outright. */
export function evaluateGovernance(policy: RunPolicy, results: RunResults): GovernanceVerdict {
  const violations: string[] = [];
  if (policy.maxDebitTotal !== undefined && results.totalDebited > policy.maxDebitTotal) {
    violations.push(`max_debit_total: debited ${results.totalDebited}, the limit is ${policy.maxDebitTotal}`);
  }
  const forbidden = [...new Set(results.executedKinds.filter((kind) => policy.forbiddenStepKinds?.includes(kind)))];
  if (forbidden.length > 0) violations.push(`forbidden_step_kinds: the run used ${forbidden.join(', ')}`);
  if (policy.maxSteps !== undefined && results.executedKinds.length > policy.maxSteps) {
    violations.push(`max_steps: ran ${results.executedKinds.length} steps, the limit is ${policy.maxSteps}`);
  }
  if (violations.length > 0) return { outcome: 'reject', violations };
  const approval = policy.requireApprovalOverDebit;
  if (approval && results.totalDebited > approval.threshold) {
    return {
      outcome: 'approval_required',
      violations: [],
      reason: `debited ${results.totalDebited} credits, above the approval threshold of ${approval.threshold}`,
      timeoutSeconds: approval.timeoutSeconds,
    };
  }
  return { outcome: 'pass', violations: [] };
}

/** The longest the governance check may wait for an approval under this policy. */
export const governanceWaitingMs = (policy: RunPolicy): number =>
  policy.requireApprovalOverDebit ? policy.requireApprovalOverDebit.timeoutSeconds * 1000 : 0;
