import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ProvisioningFailure, type FaultPlan } from '../src/contracts/provisioning';

/**
 * Test-only: raises the planned fault for `step` after its effect committed, the hardest case for a saga (the step
 * did its work, then failed). A permanent fault is non-retryable; a transient one fails the first N attempts, so the
 * retry must find the effect already there and change nothing. Does nothing unless the worker enabled it.
 */
export function raisePlannedFault(enabled: boolean, plan: FaultPlan | undefined, step: string): void {
  if (!enabled || !plan || plan.step !== step) return;
  if (plan.mode === 'permanent') {
    throw ApplicationFailure.create({
      type: ProvisioningFailure.InjectedFault,
      message: `injected permanent fault at ${step}`,
      nonRetryable: true,
    });
  }
  if (Context.current().info.attempt <= (plan.failures ?? 1)) {
    throw ApplicationFailure.create({ type: 'InjectedTransientFault', message: `injected transient fault at ${step}` });
  }
}
