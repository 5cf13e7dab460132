import { allow, block, type GateDecision } from '../domain/gate-decision';
import type { Limits } from '../domain/limits';
import type { SubscriptionState } from '../domain/tenant-status';

/**
 * At run submission and again at AUTHORIZED: whether the subscription allows runs at all, and a plan of this many
 * steps (rates and counts are the protection gate's).
 */
export function billingRunDecision(limits: Limits, subscriptionState: SubscriptionState | 'unknown', stepCount: number): GateDecision {
  if (limits.runsPerDay <= 0 || limits.concurrentRuns <= 0) return block('billing', `subscription is ${subscriptionState}: the plan allows no runs`);
  if (stepCount > limits.stepsPerRun) return block('billing', `a run of ${stepCount} steps is over the plan's limit of ${limits.stepsPerRun} steps per run`);
  return allow('billing');
}
