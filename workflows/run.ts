import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  proxyActivities,
  proxySinks,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { RunActivities } from '../activities/run';
import type { RunStepActivities } from '../activities/run-steps';
import {
  approveRunUpdate,
  forceCompleteRunUpdate,
  rejectRunUpdate,
  RunFailure,
  RunUpdateRefusal,
  runStatusQuery,
  terminateRunUpdate,
  type ApprovalInput,
  type OperatorOverrideInput,
  type RunCause,
  type RunContext,
  type RunFailureType,
  type RunInput,
  type RunResult,
  type RunStatus,
  type RunStepContext,
  type RunStepState,
  type RunUpdateRefusalType,
} from '../src/contracts/run';
import type { ControlPlaneSinks } from '../src/contracts/sinks';
import { durationMs } from '../src/domain/duration';
import { GOVERNANCE_KEY, stepKey } from '../src/domain/run-audit';
import { OPERATOR_INTERRUPTIBLE_PHASES, type RunPhase } from '../src/domain/run-phase';
import { DEFAULT_APPROVAL_TIMEOUT, isEffectStepKind, type EffectStepKind } from '../src/domain/step-catalog';
import type { EffectStep, RunStep } from '../src/domain/step-kinds';
import { RUN_DEGRADED, RUN_PHASE, TENANT_ID } from '../src/temporal/search-attributes';

type KernelActivities = RunActivities & RunStepActivities;

// Gates, steps and governance: transient faults retried with backoff, permanent ones come back non-retryable. A
// cancelled run waits for an in-flight step to end, so no effect can land after its own rollback.
const forward = proxyActivities<KernelActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 8 },
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

// Trace and audit writes: a few quick attempts, then the run goes on DEGRADED instead of stalling or running dark.
const trace = proxyActivities<KernelActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '2 seconds', maximumAttempts: 5 },
});

// Compensations and the close of the books must finish or the tenant's data is wrong: retried without limit.
const settle = proxyActivities<KernelActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const COMPENSATIONS: Record<EffectStepKind, 'restoreRecord' | 'reverseCreditEntry'> = {
  'records.write': 'restoreRecord',
  'records.delete': 'restoreRecord',
  'credits.debit': 'reverseCreditEntry',
  'credits.refund': 'reverseCreditEntry',
};

function executeEffect(context: RunStepContext, step: EffectStep) {
  switch (step.kind) {
    case 'records.write':
      return forward.writeRecord({ ...context, step });
    case 'records.delete':
      return forward.deleteRecord({ ...context, step });
    case 'credits.debit':
      return forward.debitCredits({ ...context, step });
    case 'credits.refund':
      return forward.refundCredits({ ...context, step });
  }
}

const { metrics, events } = proxySinks<ControlPlaneSinks>();

type Override = { kind: 'terminate' | 'force_complete'; actor: string; reason: string };
type ApprovalOutcome = { decision: 'approved' | 'rejected'; actor: string; note?: string } | { decision: 'timed_out' } | { decision: 'interrupted' };

/** A deliberate end of the run, carrying its cause to the rollback. */
const halt = (cause: RunCause) => ApplicationFailure.create({ type: cause.type, message: cause.message, nonRetryable: true, details: [cause] });
const refuse = (type: RunUpdateRefusalType, message: string) => ApplicationFailure.create({ type, message, nonRetryable: true });
const isRunFailureType = (type: string | undefined | null): type is RunFailureType => type !== undefined && type !== null && type in RunFailure;

/**
 * The run kernel: CREATED → AUTHORIZED → EXECUTING → GOVERNANCE_CHECK → FINALIZING → COMPLETED, or a full rollback
 * to FAILED. Every step re-checks the tenant and its policy; nothing but an operator's force-complete skips governance.
 */
export async function runWorkflow(input: RunInput): Promise<RunResult> {
  const { runId, tenantId, plan, faultPlan } = input;
  const context: RunContext = { runId, tenantId };
  const startedAt = Date.now();
  const status: RunStatus = {
    runId,
    tenantId,
    phase: 'CREATED',
    outcome: null,
    steps: plan.steps.map((step, index) => ({ index, kind: step.kind, state: 'pending' as RunStepState })),
    cause: null,
    degraded: false,
    rollingBack: false,
    pendingApproval: null,
    override: null,
  };
  let override: Override | undefined;
  let approvalAnswer: ApprovalOutcome | undefined;

  const mark = (index: number, state: RunStepState, error?: string) => {
    const step = status.steps[index]!;
    step.state = state;
    if (error !== undefined) step.error = error;
  };

  const enterPhase = async (phase: RunPhase, persist: 'trace' | 'by-its-activity') => {
    status.phase = phase;
    upsertSearchAttributes([{ key: RUN_PHASE, value: phase }]);
    log.info('run phase', { runId, phase });
    events.emit({ type: 'run.phase_changed', tenantId: input.tenantId, runId, data: { phase } });
    if (persist === 'trace') await traced(`phase ${phase}`, () => trace.recordRunPhase({ ...context, phase, faultPlan }));
  };

  /** An audit or trace write that failed after its retries marks the run DEGRADED, visibly, and the run goes on. */
  const traced = async (what: string, write: () => Promise<unknown>) => {
    try {
      await write();
    } catch (error) {
      if (isCancellation(error)) throw error;
      if (status.degraded) return;
      status.degraded = true;
      upsertSearchAttributes([{ key: RUN_DEGRADED, value: true }]);
      log.warn('run degraded', { runId, what, error: messageOf(error) });
      try {
        await trace.markRunDegraded({ ...context, reason: `${what}: ${messageOf(error)}` });
      } catch (markError) {
        if (isCancellation(markError)) throw markError;
        // Still visible: the search attribute and the query say DEGRADED, and the closing write records it.
      }
    }
  };

  // ---- Operator and tenant-admin controls: validators refuse before anything reaches history.
  setHandler(runStatusQuery, () => status);
  const validateApproval = (decision: ApprovalInput) => {
    if (!decision?.actor?.trim()) throw refuse(RunUpdateRefusal.ActorRequired, 'an approval needs the acting tenant admin');
    const pending = status.pendingApproval;
    if (pending === null || approvalAnswer !== undefined || override !== undefined) throw refuse(RunUpdateRefusal.NoApprovalPending, 'the run is not waiting for an approval');
    if (decision.approvalKey !== undefined && decision.approvalKey !== pending.key) {
      throw refuse(RunUpdateRefusal.ApprovalKeyMismatch, `the run is waiting for approval ${pending.key}, not ${decision.approvalKey}`);
    }
  };
  const answer = (decision: 'approved' | 'rejected') => (input: ApprovalInput) => {
    const approvalKey = status.pendingApproval!.key;
    approvalAnswer = { decision, actor: input.actor, ...(input.note ? { note: input.note } : {}) };
    return { approvalKey, decision };
  };
  setHandler(approveRunUpdate, answer('approved'), { validator: validateApproval });
  setHandler(rejectRunUpdate, answer('rejected'), { validator: validateApproval });

  const validateOverride = (request: OperatorOverrideInput) => {
    if (!request?.actor?.trim() || !request.reason?.trim()) throw refuse(RunUpdateRefusal.ActorRequired, 'an override needs an actor and a reason');
    if (override !== undefined) throw refuse(RunUpdateRefusal.OverrideAlreadyRequested, `a ${override.kind} is already under way`);
    if (status.rollingBack || !OPERATOR_INTERRUPTIBLE_PHASES.includes(status.phase)) {
      throw refuse(RunUpdateRefusal.NotInterruptible, `the run is ${status.rollingBack ? 'rolling back' : status.phase} and can no longer be overridden`);
    }
  };
  const requestOverride = (kind: Override['kind']) => (request: OperatorOverrideInput) => {
    override = { kind, actor: request.actor, reason: request.reason };
    log.info('operator override', { runId, kind, actor: request.actor });
    events.emit({ type: `run.override_${kind}`, tenantId: input.tenantId, runId, actor: request.actor, data: { reason: request.reason, phase: status.phase } });
    return { accepted: kind, phase: status.phase };
  };
  setHandler(terminateRunUpdate, requestOverride('terminate'), { validator: validateOverride });
  setHandler(forceCompleteRunUpdate, requestOverride('force_complete'), { validator: validateOverride });

  /** Terminate ends the run here; force-complete tells the caller to skip what remains. */
  const honourOverride = (): 'go_on' | 'skip_rest' => {
    if (override?.kind === 'terminate') {
      throw halt({ type: RunFailure.OperatorTerminated, message: `terminated by ${override.actor}: ${override.reason}`, actor: override.actor });
    }
    return override?.kind === 'force_complete' ? 'skip_rest' : 'go_on';
  };

  const awaitApproval = async (key: string, reason: string, timeoutMs: number): Promise<ApprovalOutcome> => {
    approvalAnswer = undefined;
    status.pendingApproval = { key, reason, deadline: new Date(Date.now() + timeoutMs).toISOString() };
    const answered = await condition(() => approvalAnswer !== undefined || override !== undefined, timeoutMs);
    status.pendingApproval = null;
    if (approvalAnswer !== undefined) return approvalAnswer;
    return answered ? { decision: 'interrupted' } : { decision: 'timed_out' };
  };

  /** Audits the decision, then ends the run if it was not an approval. */
  const settleApproval = async (key: string, outcome: ApprovalOutcome, stepIndex?: number) => {
    if (outcome.decision === 'interrupted') return;
    const actor = outcome.decision === 'timed_out' ? undefined : outcome.actor;
    await traced(`approval ${key}`, () =>
      trace.recordApproval({ ...context, approvalKey: key, decision: outcome.decision, actor, note: outcome.decision === 'timed_out' ? undefined : outcome.note }),
    );
    if (outcome.decision === 'rejected') {
      throw halt({ type: RunFailure.ApprovalRejected, message: `approval ${key} rejected by ${outcome.actor}${outcome.note ? `: ${outcome.note}` : ''}`, actor: outcome.actor, stepIndex });
    }
    if (outcome.decision === 'timed_out') throw halt({ type: RunFailure.ApprovalTimedOut, message: `approval ${key} was not given in time`, stepIndex });
  };

  upsertSearchAttributes([
    { key: TENANT_ID, value: tenantId },
    { key: RUN_PHASE, value: 'CREATED' },
    { key: RUN_DEGRADED, value: false },
  ]);
  const closing = () => ({ ...context, workflowId: workflowInfo().workflowId, plan, submittedBy: input.submittedBy, steps: status.steps, degraded: status.degraded });
  const undo: Array<{ index: number; kind: EffectStepKind }> = [];
  let currentStep: number | undefined;
  let skippedGovernance = false;

  try {
    await traced('open run', () => trace.openRun({ ...input, workflowId: workflowInfo().workflowId }));

    const authorization = await forward.authorizeRun({ ...context, stepCount: plan.steps.length });
    if (!authorization.allowed) {
      throw halt({ type: RunFailure.GateRefused, message: `refused by the ${authorization.gate} gate: ${authorization.reason}`, gate: authorization.gate });
    }
    await enterPhase('AUTHORIZED', 'by-its-activity');
    await enterPhase('EXECUTING', 'trace');

    for (const [index, step] of plan.steps.entries()) {
      if (honourOverride() === 'skip_rest') break;
      currentStep = index;
      mark(index, 'running');
      const stepContext: RunStepContext = { ...context, stepIndex: index, policyFingerprint: authorization.policyFingerprint, faultPlan };
      const finished = await runStep(step, stepContext);
      mark(index, finished ? 'completed' : 'skipped');
    }
    currentStep = undefined;

    if (honourOverride() === 'skip_rest') {
      skippedGovernance = true;
    } else {
      await enterPhase('GOVERNANCE_CHECK', 'by-its-activity');
      const executedKinds = status.steps.filter((step) => step.state === 'completed').map((step) => step.kind);
      const verdict = await forward.evaluateRunGovernance({ ...context, policyFingerprint: authorization.policyFingerprint, executedKinds });
      if (verdict.outcome === 'reject') {
        throw halt({ type: RunFailure.GovernanceRejected, message: `governance rejected the run: ${verdict.violations.join('; ')}`, violations: verdict.violations });
      }
      if (verdict.outcome === 'approval_required') {
        const outcome = await awaitApproval(GOVERNANCE_KEY, verdict.approval!.reason, verdict.approval!.timeoutSeconds * 1000);
        if (outcome.decision === 'interrupted') skippedGovernance = true;
        await settleApproval(GOVERNANCE_KEY, outcome);
      }
      honourOverride();
    }
  } catch (error) {
    const cause = causeOf(error, currentStep);
    if (currentStep !== undefined && status.steps[currentStep]?.state === 'running') mark(currentStep, 'failed', cause.message);
    status.cause = cause;
    status.rollingBack = true;
    status.pendingApproval = null;
    log.info('run rolling back', { runId, cause: cause.type });
    await CancellationScope.nonCancellable(async () => {
      await settle.beginRollback({ ...context, cause, compensatedSteps: undo.map((entry) => entry.index) });
      for (const entry of undo) {
        mark(entry.index, 'compensating');
        await settle[COMPENSATIONS[entry.kind]]({ ...context, stepIndex: entry.index, kind: entry.kind, faultPlan });
        mark(entry.index, 'compensated');
      }
      await settle.recordRunFailure({ ...closing(), cause });
    });
    status.rollingBack = false;
    status.outcome = 'failed';
    await enterPhase('FAILED', 'by-its-activity');
    metrics.runFinished('failed', (Date.now() - startedAt) / 1000);
    throw halt(cause);
  }

  // Past the point of no return: finalisation is not cancellable and is retried until it commits.
  status.override = override?.kind === 'force_complete'
    ? { actor: override.actor, reason: override.reason, skippedSteps: status.steps.filter((step) => step.state === 'pending' || step.state === 'skipped').map((step) => step.index), skippedGovernance }
    : null;
  for (const index of status.override?.skippedSteps ?? []) mark(index, 'skipped');
  await CancellationScope.nonCancellable(async () => {
    await enterPhase('FINALIZING', 'trace');
    await settle.finalizeRun({ ...closing(), override: status.override });
  });
  status.outcome = 'completed';
  await enterPhase('COMPLETED', 'by-its-activity');
  metrics.runFinished('completed', (Date.now() - startedAt) / 1000);
  return { runId, phase: 'COMPLETED', outcome: 'completed', steps: status.steps, degraded: status.degraded, override: status.override };

  /** Runs one step; false when an operator override cut a wait or an approval short. */
  async function runStep(step: RunStep, stepContext: RunStepContext): Promise<boolean> {
    const index = stepContext.stepIndex;
    if (isEffectStepKind(step.kind)) {
      // Registered before it runs: a step can commit and still fail to report, and its compensation is safe either way.
      undo.unshift({ index, kind: step.kind });
      await executeEffect(stepContext, step as EffectStep);
      return true;
    }
    await forward.checkRunGuard(stepContext);
    if (step.kind === 'wait') {
      const interrupted = await condition(() => override !== undefined, durationMs(step.duration));
      if (interrupted) return false;
      await traced(`wait step ${index}`, () => trace.completeWaitStep({ ...context, stepIndex: index }));
      return true;
    }
    if (step.kind === 'approval') {
      const outcome = await awaitApproval(stepKey(index), step.reason ?? 'the plan asks for an approval', durationMs(step.timeout ?? DEFAULT_APPROVAL_TIMEOUT));
      await settleApproval(stepKey(index), outcome, index);
      return outcome.decision === 'approved';
    }
    return true;
  }
}

function causeOf(error: unknown, stepIndex: number | undefined): RunCause {
  const at = stepIndex === undefined ? {} : { stepIndex };
  if (error instanceof ApplicationFailure && isRunFailureType(error.type) && error.details?.[0]) return error.details[0] as RunCause;
  if (error instanceof ActivityFailure) {
    const inner = error.cause;
    const innerType = inner instanceof ApplicationFailure ? (inner.type ?? undefined) : inner?.name;
    if (innerType === RunFailure.TenantHalted || innerType === RunFailure.PolicyChanged) return { type: innerType, message: inner!.message, ...at };
    return {
      type: stepIndex === undefined ? RunFailure.Internal : RunFailure.StepFailed,
      message: inner?.message ?? error.message,
      ...at,
      ...(innerType ? { errorType: innerType } : {}),
    };
  }
  if (isCancellation(error)) return { type: RunFailure.Cancelled, message: 'the run was cancelled through Temporal', ...at };
  return { type: RunFailure.Internal, message: messageOf(error), ...at };
}

function messageOf(error: unknown): string {
  const cause = error instanceof ActivityFailure && error.cause ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}
