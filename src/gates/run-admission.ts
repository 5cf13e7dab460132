import type { GateDecision } from '../domain/gate-decision';
import type { Limits } from '../domain/limits';
import type { SubscriptionState, TenantStatus } from '../domain/tenant-status';
import { billingRunDecision } from './billing-gate';
import { runExecutionSwitchDecision, type KillSwitches } from './kill-switch-gate';
import { lifecycleDecision } from './lifecycle-gate';
import { unverifiedRunDecision } from './verification-gate';
import { checkAll, runCeilings, type PlatformCeilings, type RunCounts } from './protection-gate';

/** Everything already read that decides whether one more run may start; the runs service reads, this decides. */
export interface RunSubmissionState {
  switches: KillSwitches;
  tenantStatus: TenantStatus;
  subscriptionState: SubscriptionState | 'unknown';
  limits: Limits;
  counts: RunCounts;
  platform: PlatformCeilings;
  /** Steps in the submitted plan: the billing gate holds it to the plan's steps per run. */
  stepCount: number;
  /** Set while the owner's email is unverified: the runs a day the tenant may start until then. */
  unverifiedRunsPerDay?: number;
}

/**
 * Gates in the order a client can least do about them: kill switch, lifecycle, billing, protection. The caller records
 * every decision (each gate is counted) and acts on `firstRefusal`.
 */
export function runSubmissionDecisions(state: RunSubmissionState): GateDecision[] {
  return [
    runExecutionSwitchDecision(state.switches),
    lifecycleDecision(state.tenantStatus, 'run_submission'),
    billingRunDecision(state.limits, state.subscriptionState, state.stepCount),
    checkAll({ counts: state.counts, ceilings: runCeilings(state.limits, state.platform) }),
    ...(state.unverifiedRunsPerDay === undefined ? [] : [unverifiedRunDecision('pending', state.counts.startedLastDay, state.unverifiedRunsPerDay)]),
  ];
}

