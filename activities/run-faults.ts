import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { StepError, type RunFaultPlan } from '../src/contracts/run';

/** Test-only faults for runs; nothing happens unless the worker enabled fault injection. */
function injected(message: string, nonRetryable: boolean): ApplicationFailure {
  return ApplicationFailure.create({ type: nonRetryable ? StepError.InjectedFault : 'InjectedTransientFault', message, nonRetryable });
}

/** Raised after the step's transaction committed: the step did its work, then failed, the hardest case to undo. */
export function raiseStepFault(enabled: boolean, plan: RunFaultPlan | undefined, stepIndex: number): void {
  const fault = plan?.step;
  if (!enabled || !fault || fault.index !== stepIndex) return;
  if (fault.mode === 'permanent') throw injected(`injected permanent fault at step ${stepIndex}`, true);
  if (Context.current().info.attempt <= (fault.failures ?? 1)) throw injected(`injected transient fault at step ${stepIndex}`, false);
}

/** Raised before the compensation's transaction: its retries must finish the undo exactly once. */
export function raiseCompensationFault(enabled: boolean, plan: RunFaultPlan | undefined, stepIndex: number): void {
  const fault = plan?.compensation;
  if (!enabled || !fault || fault.index !== stepIndex) return;
  if (Context.current().info.attempt <= fault.failures) throw injected(`injected transient fault compensating step ${stepIndex}`, false);
}

export function raiseTraceFault(enabled: boolean, plan: RunFaultPlan | undefined): void {
  if (enabled && plan?.failTraceWrites) throw injected('injected trace write failure', true);
}
