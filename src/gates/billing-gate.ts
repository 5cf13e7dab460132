import { allow, block, type GateDecision } from '../domain/gate-decision';
import type { Limits } from '../domain/limits';
import type { SubscriptionState } from '../domain/tenant-status';

/** At run submission: whether the subscription allows runs at all (rates and counts are the protection gate's). */
export function billingRunDecision(limits: Limits, subscriptionState: SubscriptionState | 'unknown'): GateDecision {
  if (limits.runsPerDay <= 0 || limits.concurrentRuns <= 0) return block('billing', `subscription is ${subscriptionState}: the plan allows no runs`);
  return allow('billing');
}

/** Before each run step: a run stops at its plan's step ceiling instead of running on unbilled. */
export function billingStepDecision(limits: Limits, stepsTaken: number): GateDecision {
  if (stepsTaken >= limits.stepsPerRun) return block('billing', `step limit of ${limits.stepsPerRun} per run reached`);
  return allow('billing');
}

/** At member invitation: seats are counted against the plan. */
export function billingSeatDecision(limits: Limits, seatsTaken: number): GateDecision {
  if (seatsTaken >= limits.seats) return block('billing', `seat limit of ${limits.seats} reached`);
  return allow('billing');
}
