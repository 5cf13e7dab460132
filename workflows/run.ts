import {
  ActivityCancellationType,
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  proxySinks,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { RunActivities } from '../activities/run';
import type { RunStepActivities } from '../activities/run-steps';
import {
  approveRunUpdate,
  forceCompleteRunUpdate,
  legacyForceCompleteRunUpdate,
  legacyTerminateRunUpdate,
  rejectRunUpdate,
  RunFailure,
  RunUpdateRefusal,
  runStatusQuery,
  terminateRunUpdate,
  type ApprovalAnswer,
  type ApprovalInput,
  type OperatorOverrideInput,
  type OverrideAnswer,
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
import { failureKind, failureMessage, permanentFailure } from './failures';

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

// The lean path's bookkeeping (open, authorize, phase traces, governance, finalize) as local activities, with the same
// retry policies: each is one short transaction, so running it inside the workflow task saves a server round trip
// (docs/performance.md). Retries past the first wait on workflow timers, so a failing write ends the workflow task and
// the run stays queryable. Effect steps, approvals and the rollback stay ordinary activities: visible step by step.
const LOCAL_RETRY_THRESHOLD = '100 milliseconds';
const localForward = proxyLocalActivities<KernelActivities>({
  startToCloseTimeout: '30 seconds',
  localRetryThreshold: LOCAL_RETRY_THRESHOLD,
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 8 },
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});
const localTrace = proxyLocalActivities<KernelActivities>({
  startToCloseTimeout: '10 seconds',
  localRetryThreshold: LOCAL_RETRY_THRESHOLD,
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '2 seconds', maximumAttempts: 5 },
});
const localSettle = proxyLocalActivities<KernelActivities>({
  startToCloseTimeout: '30 seconds',
  localRetryThreshold: LOCAL_RETRY_THRESHOLD,
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** Runs started before the lean path replay on ordinary activities and an upsert per phase. */
const LEAN_BOOKKEEPING = 'lean-run-bookkeeping';
/**
 * Runs started before it judge governance and finalise in two local activities, and open themselves even when the API
 * already did: with it, a run the API admitted skips openRun, and a passing verdict closes the run in its own
 * transaction (concludeRun).
 */
const CLOSE_WITH_GOVERNANCE = 'close-with-governance';

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
const halt = (cause: RunCause) => permanentFailure(cause.type, cause.message, [cause]);
const refuse = (type: RunUpdateRefusalType, message: string) => permanentFailure(type, message);
const isRunFailureType = (type: string | undefined | null): type is RunFailureType => type !== undefined && type !== null && type in RunFailure;

/**
 * One run: its status, one method per update, and its phases. Update handlers only record what was asked (they never
 * await), so no lock is needed; the phases look at the request at each boundary.
 */
class RunKernel {
  readonly status: RunStatus;
  private override: Override | undefined;
  private approvalAnswer: ApprovalOutcome | undefined;
  /** Effect steps to undo, newest first; a step is registered before it runs (it can commit and still fail to report). */
  private readonly undo: Array<{ index: number; kind: EffectStepKind }> = [];
  private currentStep: number | undefined;
  private skippedGovernance = false;
  /** While concludeRun is in flight its verdict may close the run: an operator override can no longer be honoured. */
  private concluding = false;
  /** concludeRun closed the run (COMPLETED) with a passing verdict: nothing is left to finalise. */
  private closedWithGovernance = false;
  private readonly context: RunContext;
  private readonly startedAt = Date.now();
  /** The bookkeeping activities: local ones on the lean path. */
  private readonly books: { forward: typeof forward; trace: typeof trace; settle: typeof settle };
  /** Lean path: search attributes set since the last upsert, written together when the run next waits or ends. */
  private unpublished: SearchAttributeUpdatePair[] = [];

  constructor(
    private readonly input: RunInput,
    private readonly lean: boolean,
    private readonly closesWithGovernance: boolean,
  ) {
    this.books = lean ? { forward: localForward, trace: localTrace, settle: localSettle } : { forward, trace, settle };
    this.context = { runId: input.runId, tenantId: input.tenantId };
    this.status = {
      runId: input.runId,
      tenantId: input.tenantId,
      phase: 'CREATED',
      outcome: null,
      steps: input.plan.steps.map((step, index) => ({ index, kind: step.kind, state: 'pending' as RunStepState })),
      cause: null,
      degraded: false,
      rollingBack: false,
      pendingApproval: null,
      override: null,
    };
  }

  // ---- Tenant-admin and operator controls: validators refuse before anything reaches history.

  validateApproval(decision: ApprovalInput): void {
    if (!decision?.actor?.trim()) throw refuse(RunUpdateRefusal.ActorRequired, 'an approval needs the acting tenant admin');
    const pending = this.status.pendingApproval;
    if (pending === null || this.approvalAnswer !== undefined || this.override !== undefined) throw refuse(RunUpdateRefusal.NoApprovalPending, 'the run is not waiting for an approval');
    if (decision.approvalKey !== undefined && decision.approvalKey !== pending.key) {
      throw refuse(RunUpdateRefusal.ApprovalKeyMismatch, `the run is waiting for approval ${pending.key}, not ${decision.approvalKey}`);
    }
  }

  answerApproval(decision: 'approved' | 'rejected', input: ApprovalInput): ApprovalAnswer {
    const approvalKey = this.status.pendingApproval!.key;
    this.approvalAnswer = { decision, actor: input.actor, ...(input.note ? { note: input.note } : {}) };
    return { approvalKey, decision };
  }

  validateOverride(request: OperatorOverrideInput): void {
    if (!request?.actor?.trim() || !request.reason?.trim()) throw refuse(RunUpdateRefusal.ActorRequired, 'an override needs an actor and a reason');
    if (this.override !== undefined) throw refuse(RunUpdateRefusal.OverrideAlreadyRequested, `a ${this.override.kind} is already under way`);
    if (this.concluding) throw refuse(RunUpdateRefusal.NotInterruptible, 'the run is concluding: its governance verdict may already have closed it');
    if (this.status.rollingBack || !OPERATOR_INTERRUPTIBLE_PHASES.includes(this.status.phase)) {
      throw refuse(RunUpdateRefusal.NotInterruptible, `the run is ${this.status.rollingBack ? 'rolling back' : this.status.phase} and can no longer be overridden`);
    }
  }

  requestOverride(kind: Override['kind'], request: OperatorOverrideInput): OverrideAnswer {
    this.override = { kind, actor: request.actor, reason: request.reason };
    log.info('operator override', { runId: this.input.runId, kind, actor: request.actor });
    events.emit({ type: `run.override_${kind}`, tenantId: this.input.tenantId, runId: this.input.runId, actor: request.actor, data: { reason: request.reason, phase: this.status.phase } });
    return { accepted: kind, phase: this.status.phase };
  }

  // ---- The phases.

  /** CREATED → AUTHORIZED → EXECUTING → GOVERNANCE_CHECK. Anything it throws rolls the run back. */
  async execute(): Promise<void> {
    const { plan } = this.input;
    if (!(this.closesWithGovernance && this.input.admitted)) {
      await this.traced('open run', () => this.books.trace.openRun({ ...this.input, workflowId: workflowInfo().workflowId }));
    }

    // The lean path folds the EXECUTING trace into the authorising transaction.
    const enter = this.lean ? { enter: 'EXECUTING' as const } : {};
    const authorization = await this.books.forward.authorizeRun({ ...this.context, stepCount: plan.steps.length, ...enter });
    if (!authorization.allowed) {
      throw halt({ type: RunFailure.GateRefused, message: `refused by the ${authorization.gate} gate: ${authorization.reason}`, gate: authorization.gate });
    }
    this.enterPhase('AUTHORIZED');
    await this.enterTracedPhase('EXECUTING', !this.lean);

    for (const [index, step] of plan.steps.entries()) {
      this.stopIfTerminated();
      if (this.forceCompleteRequested) break;
      this.currentStep = index;
      this.mark(index, 'running');
      this.publishAttributes();
      const stepContext: RunStepContext = { ...this.context, stepIndex: index, policyFingerprint: authorization.policyFingerprint };
      const finished = await this.runStep(step, stepContext);
      this.mark(index, finished ? 'completed' : 'skipped');
    }
    this.currentStep = undefined;

    this.stopIfTerminated();
    if (this.forceCompleteRequested) {
      this.skippedGovernance = true;
      return;
    }
    await this.checkGovernance(authorization.policyFingerprint);
  }

  /** Any failure: undo every effect step, newest first, close the books as FAILED, and end with the cause. */
  async rollBack(error: unknown): Promise<never> {
    const cause = causeOf(error, this.currentStep);
    if (this.currentStep !== undefined && this.status.steps[this.currentStep]?.state === 'running') this.mark(this.currentStep, 'failed', cause.message);
    this.status.cause = cause;
    this.status.rollingBack = true;
    this.status.pendingApproval = null;
    log.info('run rolling back', { runId: this.input.runId, cause: cause.type });
    this.publishAttributes();
    await CancellationScope.nonCancellable(async () => {
      await settle.beginRollback({ ...this.context, cause, compensatedSteps: this.undo.map((entry) => entry.index) });
      for (const entry of this.undo) {
        this.mark(entry.index, 'compensating');
        await settle[COMPENSATIONS[entry.kind]]({ ...this.context, stepIndex: entry.index, kind: entry.kind });
        this.mark(entry.index, 'compensated');
      }
      await settle.recordRunFailure({ ...this.closing(), cause });
    });
    this.status.rollingBack = false;
    this.status.outcome = 'failed';
    this.enterPhase('FAILED');
    this.publishAttributes();
    metrics.runFinished('failed', (Date.now() - this.startedAt) / 1000);
    throw halt(cause);
  }

  /** FINALIZING → COMPLETED: past the point of no return, not cancellable and retried until it commits. */
  async finalize(): Promise<RunResult> {
    const override = this.override;
    this.status.override =
      override?.kind === 'force_complete'
        ? {
            actor: override.actor,
            reason: override.reason,
            skippedSteps: this.status.steps.filter((step) => step.state === 'pending' || step.state === 'skipped').map((step) => step.index),
            skippedGovernance: this.skippedGovernance,
          }
        : null;
    for (const index of this.status.override?.skippedSteps ?? []) this.mark(index, 'skipped');
    await CancellationScope.nonCancellable(async () => {
      // The lean path folds the FINALIZING trace into finalizeRun's transaction (or concludeRun's, which closed the run).
      await this.enterTracedPhase('FINALIZING', !this.lean);
      if (this.closedWithGovernance) return;
      await this.books.settle.finalizeRun({ ...this.closing(), override: this.status.override, ...(this.lean ? { traceFinalizing: true } : {}) });
    });
    this.status.outcome = 'completed';
    this.enterPhase('COMPLETED');
    this.publishAttributes();
    metrics.runFinished('completed', (Date.now() - this.startedAt) / 1000);
    const { runId } = this.input;
    return { runId, phase: 'COMPLETED', outcome: 'completed', steps: this.status.steps, degraded: this.status.degraded, override: this.status.override };
  }

  private async checkGovernance(policyFingerprint: string): Promise<void> {
    this.enterPhase('GOVERNANCE_CHECK');
    const executedKinds = this.status.steps.filter((step) => step.state === 'completed').map((step) => step.kind);
    const verdict = this.closesWithGovernance
      ? await this.conclude(policyFingerprint, executedKinds)
      : await this.books.forward.evaluateRunGovernance({ ...this.context, policyFingerprint, executedKinds });
    if (verdict.outcome === 'reject') {
      throw halt({ type: RunFailure.GovernanceRejected, message: `governance rejected the run: ${verdict.violations.join('; ')}`, violations: verdict.violations });
    }
    if (verdict.outcome === 'approval_required') {
      const outcome = await this.awaitApproval(GOVERNANCE_KEY, verdict.approval!.reason, verdict.approval!.timeoutSeconds * 1000);
      if (outcome.decision === 'interrupted') this.skippedGovernance = true;
      await this.settleApproval(GOVERNANCE_KEY, outcome);
    }
    this.stopIfTerminated();
  }

  /**
   * Governance, and the close when it passes, in one local activity. Not cancellable: once it may have committed the
   * close, the run must learn whether it did. Overrides are refused meanwhile (validateOverride).
   */
  private async conclude(policyFingerprint: string, executedKinds: RunStep['kind'][]) {
    this.concluding = true;
    try {
      const concluded = await CancellationScope.nonCancellable(() => localForward.concludeRun({ ...this.closing(), policyFingerprint, executedKinds }));
      this.closedWithGovernance = concluded.closed;
      return concluded;
    } finally {
      this.concluding = false;
    }
  }

  /** Runs one step; false when an operator override cut a wait or an approval short. */
  private async runStep(step: RunStep, stepContext: RunStepContext): Promise<boolean> {
    const index = stepContext.stepIndex;
    if (isEffectStepKind(step.kind)) {
      this.undo.unshift({ index, kind: step.kind });
      await executeEffect(stepContext, step as EffectStep);
      return true;
    }
    await forward.checkRunGuard(stepContext);
    if (step.kind === 'wait') {
      const interrupted = await condition(() => this.override !== undefined, durationMs(step.duration));
      if (interrupted) return false;
      await this.traced(`wait step ${index}`, () => trace.completeWaitStep({ ...this.context, stepIndex: index }));
      return true;
    }
    if (step.kind === 'approval') {
      const outcome = await this.awaitApproval(stepKey(index), step.reason ?? 'the plan asks for an approval', durationMs(step.timeout ?? DEFAULT_APPROVAL_TIMEOUT));
      await this.settleApproval(stepKey(index), outcome, index);
      return outcome.decision === 'approved';
    }
    return true;
  }

  private async awaitApproval(key: string, reason: string, timeoutMs: number): Promise<ApprovalOutcome> {
    this.approvalAnswer = undefined;
    this.status.pendingApproval = { key, reason, deadline: new Date(Date.now() + timeoutMs).toISOString() };
    this.publishAttributes();
    const answered = await condition(() => this.approvalAnswer !== undefined || this.override !== undefined, timeoutMs);
    this.status.pendingApproval = null;
    if (this.approvalAnswer !== undefined) return this.approvalAnswer;
    return answered ? { decision: 'interrupted' } : { decision: 'timed_out' };
  }

  /** Audits the decision, then ends the run if it was not an approval. */
  private async settleApproval(key: string, outcome: ApprovalOutcome, stepIndex?: number): Promise<void> {
    if (outcome.decision === 'interrupted') return;
    const actor = outcome.decision === 'timed_out' ? undefined : outcome.actor;
    await this.traced(`approval ${key}`, () =>
      trace.recordApproval({ ...this.context, approvalKey: key, decision: outcome.decision, actor, note: outcome.decision === 'timed_out' ? undefined : outcome.note }),
    );
    if (outcome.decision === 'rejected') {
      throw halt({ type: RunFailure.ApprovalRejected, message: `approval ${key} rejected by ${outcome.actor}${outcome.note ? `: ${outcome.note}` : ''}`, actor: outcome.actor, stepIndex });
    }
    if (outcome.decision === 'timed_out') throw halt({ type: RunFailure.ApprovalTimedOut, message: `approval ${key} was not given in time`, stepIndex });
  }

  /** An operator's terminate ends the run at the next boundary: it rolls back like any failure. */
  private stopIfTerminated(): void {
    const override = this.override;
    if (override?.kind === 'terminate') {
      throw halt({ type: RunFailure.OperatorTerminated, message: `terminated by ${override.actor}: ${override.reason}`, actor: override.actor });
    }
  }

  /** An operator's force-complete skips what remains, governance included, and finalises. */
  private get forceCompleteRequested(): boolean {
    return this.override?.kind === 'force_complete';
  }

  /** The workflow's own state enters a phase; the row follows in the activity that makes the move (see enterTracedPhase). */
  private enterPhase(phase: RunPhase): void {
    this.status.phase = phase;
    this.setAttributes([{ key: RUN_PHASE, value: phase }]);
    log.info('run phase', { runId: this.input.runId, phase });
    events.emit({ type: 'run.phase_changed', tenantId: this.input.tenantId, runId: this.input.runId, data: { phase } });
  }

  /** A phase whose row move is its own trace activity on the old path (`trace`), folded into a neighbour's otherwise. */
  private async enterTracedPhase(phase: RunPhase, trace: boolean): Promise<void> {
    this.enterPhase(phase);
    if (trace) await this.traced(`phase ${phase}`, () => this.books.trace.recordRunPhase({ ...this.context, phase }));
  }

  /**
   * Search attributes for the Web UI. Each upsert is a visibility write (costly on the dev server's SQLite), so the
   * lean path keeps them until the run next waits on the server (a step, an approval) or ends, and writes them in one
   * upsert: phases a run passes inside one workflow task (AUTHORIZED, FINALIZING) were never observable anyway.
   */
  setAttributes(pairs: SearchAttributeUpdatePair[]): void {
    if (!this.lean) {
      upsertSearchAttributes(pairs);
      return;
    }
    const keys = new Set(pairs.map((pair) => pair.key.name));
    this.unpublished = [...this.unpublished.filter((pair) => !keys.has(pair.key.name)), ...pairs];
  }

  private publishAttributes(): void {
    if (this.unpublished.length === 0) return;
    upsertSearchAttributes(this.unpublished);
    this.unpublished = [];
  }

  /** An audit or trace write that failed after its retries marks the run DEGRADED, visibly, and the run goes on. */
  private async traced(what: string, write: () => Promise<unknown>): Promise<void> {
    try {
      await write();
    } catch (error) {
      if (isCancellation(error)) throw error;
      if (this.status.degraded) return;
      this.status.degraded = true;
      this.setAttributes([{ key: RUN_DEGRADED, value: true }]);
      this.publishAttributes();
      log.warn('run degraded', { runId: this.input.runId, what, error: failureMessage(error) });
      try {
        await trace.markRunDegraded({ ...this.context, reason: `${what}: ${failureMessage(error)}` });
      } catch (markError) {
        if (isCancellation(markError)) throw markError;
        // Still visible: the search attribute and the query say DEGRADED, and the closing write records it.
      }
    }
  }

  private mark(index: number, state: RunStepState, error?: string): void {
    const step = this.status.steps[index]!;
    step.state = state;
    if (error !== undefined) step.error = error;
  }

  private closing() {
    const { runId, tenantId, plan, submittedBy } = this.input;
    return { runId, tenantId, workflowId: workflowInfo().workflowId, plan, submittedBy, steps: this.status.steps, degraded: this.status.degraded };
  }
}

/**
 * The run kernel: CREATED → AUTHORIZED → EXECUTING → GOVERNANCE_CHECK → FINALIZING → COMPLETED, or a full rollback
 * to FAILED. Every step re-checks the tenant and its policy; nothing but an operator's force-complete skips governance.
 */
export async function runWorkflow(input: RunInput): Promise<RunResult> {
  const lean = patched(LEAN_BOOKKEEPING);
  const run = new RunKernel(input, lean, lean && patched(CLOSE_WITH_GOVERNANCE));
  setHandler(runStatusQuery, () => run.status);
  setHandler(approveRunUpdate, (decision) => run.answerApproval('approved', decision), { validator: (decision) => run.validateApproval(decision) });
  setHandler(rejectRunUpdate, (decision) => run.answerApproval('rejected', decision), { validator: (decision) => run.validateApproval(decision) });
  for (const update of [terminateRunUpdate, legacyTerminateRunUpdate]) {
    setHandler(update, (request) => run.requestOverride('terminate', request), { validator: (request) => run.validateOverride(request) });
  }
  for (const update of [forceCompleteRunUpdate, legacyForceCompleteRunUpdate]) {
    setHandler(update, (request) => run.requestOverride('force_complete', request), { validator: (request) => run.validateOverride(request) });
  }
  run.setAttributes([
    { key: TENANT_ID, value: input.tenantId },
    { key: RUN_PHASE, value: 'CREATED' },
    { key: RUN_DEGRADED, value: false },
  ]);

  try {
    await run.execute();
  } catch (error) {
    await run.rollBack(error);
  }
  const result = await run.finalize();
  await condition(allHandlersFinished);
  return result;
}

function causeOf(error: unknown, stepIndex: number | undefined): RunCause {
  const at = stepIndex === undefined ? {} : { stepIndex };
  if (error instanceof ApplicationFailure && isRunFailureType(error.type) && error.details?.[0]) return error.details[0] as RunCause;
  if (error instanceof ActivityFailure) {
    const kind = failureKind(error);
    if (kind === RunFailure.TenantHalted || kind === RunFailure.PolicyChanged) return { type: kind, message: failureMessage(error), ...at };
    return {
      type: stepIndex === undefined ? RunFailure.Internal : RunFailure.StepFailed,
      message: failureMessage(error),
      ...at,
      ...(kind ? { errorType: kind } : {}),
    };
  }
  if (isCancellation(error)) return { type: RunFailure.Cancelled, message: 'the run was cancelled through Temporal', ...at };
  return { type: RunFailure.Internal, message: failureMessage(error), ...at };
}
