import {
  allHandlersFinished,
  condition,
  continueAsNew,
  executeChild,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  proxySinks,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { Mutex } from 'async-mutex';
import type { LifecycleActivities } from '../activities/lifecycle';
import {
  forceCompleteTenantUpdate,
  legacyForceCompleteTenantUpdate,
  legacyTerminateTenantUpdate,
  lifecycleStateQuery,
  restoreUpdate,
  softDeleteUpdate,
  suspendUpdate,
  terminateTenantUpdate,
  unsuspendUpdate,
  type LifecycleCarry,
  type LifecycleRequest,
  type LifecycleView,
  type OffboardingRequest,
  type SoftDeleteRequest,
  type TenantLifecycleInput,
  type TransitionAnswer,
  type TransitionRecord,
} from '../src/contracts/lifecycle';
import type { ControlPlaneSinks } from '../src/contracts/sinks';
import { DAY_MS } from '../src/domain/duration';
import {
  LIFECYCLE_EVENT,
  LifecycleRefusal,
  lifecycleRefusal,
  lifecycleTarget,
  retentionProblem,
  TERMINATED_EVENT,
  type LifecycleAction,
  type LifecycleState,
  type Refusal,
} from '../src/domain/lifecycle';
import { TENANT_ID, TENANT_LIFECYCLE_STATE } from '../src/temporal/search-attributes';
import { offboardingWorkflowId } from '../src/temporal/workflow-ids';
import { asOwnFailure, permanentFailure } from './failures';
import { LegacyTransitionLock, type TransitionLock } from './legacy-transition-lock';
import { offboardTenant } from './offboarding';

// A status change is one short transaction: retried with backoff; a conflict with Postgres comes back non-retryable.
const lifecycleSteps = proxyActivities<LifecycleActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 10 },
});

const { events, metrics } = proxySinks<ControlPlaneSinks>();

/** Continue-as-new past this many history events, even before the server suggests it. */
const DEFAULT_HISTORY_LIMIT = 2000;
const RECENT_TRANSITIONS = 20;
const MAX_ACTOR = 200;
const MAX_REASON = 1000;

const refuse = (refusal: Refusal) => permanentFailure(refusal.type, refusal.message);
const isoOrNull = (at: number | null) => (at === null ? null : new Date(at).toISOString());

/**
 * One tenant's lifecycle: its state, and one method per update. Transitions run one at a time under `transitions`
 * (safe-message-handlers): a second waits, then is judged again against the state the first one left.
 */
class TenantLifecycle {
  state: LifecycleState;
  restoreTo: LifecycleState;
  deletesAt: number | null;
  offboarding: OffboardingRequest | null;
  private transitionCount: number;
  private refusals = 0;
  private readonly recent: TransitionRecord[];
  private readonly transitions: TransitionLock;

  constructor(
    private readonly input: TenantLifecycleInput,
    /** False while replaying a workflow started before the patch 'lifecycle-safe-message-handlers'. */
    readonly safeMessageHandlers: boolean,
  ) {
    this.transitions = safeMessageHandlers ? new Mutex() : new LegacyTransitionLock();
    const carried = input.carried;
    this.state = input.state;
    this.restoreTo = carried?.restoreTo ?? 'active';
    this.deletesAt = carried?.deletesAt ? Date.parse(carried.deletesAt) : null;
    this.offboarding = carried?.offboarding ?? null;
    this.transitionCount = carried?.transitionCount ?? 0;
    this.recent = [...(carried?.recent ?? [])];
  }

  view(): LifecycleView {
    return {
      tenantId: this.input.tenantId,
      state: this.state,
      deletesAt: isoOrNull(this.deletesAt),
      offboarding: this.offboarding,
      transitionCount: this.transitionCount,
      recent: this.recent,
    };
  }

  carry(): LifecycleCarry {
    // A deadline that passed while waiting is carried too: the next run's timer fires at once.
    return { restoreTo: this.restoreTo, deletesAt: isoOrNull(this.deletesAt), offboarding: this.offboarding, transitionCount: this.transitionCount, recent: this.recent };
  }

  get waitsOutRetention(): boolean {
    return this.state === 'pending_deletion' && this.deletesAt !== null;
  }

  /** Validators are synchronous and see the state now; a refusal leaves no trace in history. */
  validator(action: LifecycleAction) {
    return (request: LifecycleRequest) => {
      const refusal = this.refusalOf(action, request);
      if (refusal) throw refuse(refusal);
    };
  }

  suspend(request: LifecycleRequest) {
    return this.exclusively('suspend', request, () => this.transition('suspend', this.targetOf('suspend'), request));
  }

  unsuspend(request: LifecycleRequest) {
    return this.exclusively('unsuspend', request, () => this.transition('unsuspend', this.targetOf('unsuspend'), request));
  }

  softDelete(request: SoftDeleteRequest) {
    return this.exclusively('softDelete', request, async () => {
      const retentionDays = request.retentionDays ?? this.input.defaultRetentionDays;
      const until = Date.now() + retentionDays * DAY_MS;
      const from = this.state;
      const answer = await this.transition('softDelete', this.targetOf('softDelete'), request, { retentionDays, deletesAt: isoOrNull(until) });
      this.restoreTo = from;
      this.deletesAt = until;
      return { ...answer, deletesAt: isoOrNull(until) };
    });
  }

  restore(request: LifecycleRequest) {
    return this.exclusively('restore', request, async () => {
      const answer = await this.transition('restore', this.targetOf('restore'), request, { restoredTo: this.restoreTo });
      this.deletesAt = null;
      return { ...answer, deletesAt: null };
    });
  }

  /** OFFBOARD-002: termination is irreversible. The tenant is locked (pending deletion) at once and offboarding starts. */
  terminate(request: LifecycleRequest) {
    return this.exclusively('terminate', request, async () => {
      const answer = await this.transition('terminate', this.targetOf('terminate'), request, { offboarding: 'now' });
      this.offboarding = { trigger: 'terminate', actor: request.actor, reason: request.reason ?? null };
      this.deletesAt = null;
      return { ...answer, deletesAt: null, offboarding: true };
    });
  }

  /** Ends a retention wait now (its audit row says who cut it short and why), or marks a stuck onboarding complete. */
  forceComplete(request: LifecycleRequest) {
    return this.exclusively('forceComplete', request, async () => {
      const from = this.state;
      if (this.state === 'pending_deletion') {
        const answer = await this.transition('forceComplete', this.state, request, { ended: 'retention_wait', deletesAt: isoOrNull(this.deletesAt) });
        this.offboarding = { trigger: 'force_complete', actor: request.actor, reason: request.reason ?? null };
        this.deletesAt = null;
        return { ...answer, deletesAt: null, offboarding: true };
      }
      try {
        await lifecycleSteps.forceCompleteOnboarding({
          tenantId: this.input.tenantId,
          workflowId: workflowInfo().workflowId,
          actor: request.actor,
          reason: request.reason ?? null,
          transitionKey: this.transitionKey('onboarding.force_completed'),
        });
      } catch (error) {
        throw asOwnFailure(error);
      }
      this.record('forceComplete', from, this.state, request);
      return this.answer('forceComplete', from);
    });
  }

  /** The retention timer: durable, so a restart of every worker does not lose or reset it. */
  async waitOutRetention(): Promise<void> {
    const interrupted = await condition(() => this.state !== 'pending_deletion' || this.offboarding !== null, Math.max(this.deletesAt! - Date.now(), 1));
    if (interrupted || this.offboarding !== null) return;
    await this.transitions.runExclusive(() => {
      if (this.state === 'pending_deletion' && this.offboarding === null) {
        this.offboarding = { trigger: 'retention_expired', actor: 'system:retention', reason: 'the retention period ended' };
      }
    });
  }

  /** Runs the offboarding child and records its end; a transition under way finishes first, any after it is refused. */
  async offboard(): Promise<void> {
    await this.transitions.waitForUnlock();
    const request = this.offboarding!;
    const tenantId = this.input.tenantId;
    try {
      await executeChild(offboardTenant, {
        workflowId: offboardingWorkflowId(tenantId),
        args: [{ tenantId, ...request }],
        // Offboarding must finish even if this workflow is closed by hand.
        parentClosePolicy: ParentClosePolicy.ABANDON,
        typedSearchAttributes: [{ key: TENANT_ID, value: tenantId }],
      });
    } catch (error) {
      // An earlier run of this workflow started it and it is still going: it marks the tenant terminated itself.
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      log.warn('offboarding already under way', { tenantId });
      return;
    }
    const from = this.state;
    this.state = 'terminated';
    this.deletesAt = null;
    upsertSearchAttributes([{ key: TENANT_LIFECYCLE_STATE, value: this.state }]);
    events.emit({ type: TERMINATED_EVENT, tenantId, actor: request.actor, data: { from, trigger: request.trigger } });
    metrics.lifecycleTransition(from, this.state);
  }

  private refusalOf(action: LifecycleAction, request: LifecycleRequest | undefined): Refusal | undefined {
    const actor = request?.actor;
    if (typeof actor !== 'string' || actor.trim() === '' || actor.length > MAX_ACTOR) {
      return { type: LifecycleRefusal.ActorRequired, message: `a ${action} needs the acting operator (actor, at most ${MAX_ACTOR} characters)` };
    }
    if (request?.reason !== undefined && (typeof request.reason !== 'string' || request.reason.length > MAX_REASON)) {
      return { type: LifecycleRefusal.ActorRequired, message: `the reason must be text of at most ${MAX_REASON} characters` };
    }
    if (action === 'softDelete') {
      const problem = retentionProblem((request as SoftDeleteRequest).retentionDays);
      if (problem) return { type: LifecycleRefusal.BadRetention, message: problem };
    }
    return lifecycleRefusal({ tenantId: this.input.tenantId, state: this.state, offboarding: this.offboarding !== null }, action);
  }

  /** One transition at a time, judged again once it has the floor; a refusal then is audited. */
  private exclusively(action: LifecycleAction, request: LifecycleRequest, change: () => Promise<TransitionAnswer>): Promise<TransitionAnswer> {
    return this.transitions.runExclusive(async () => {
      const refusal = this.refusalOf(action, request);
      if (refusal) {
        this.refusals += 1;
        await lifecycleSteps.recordRefusedTransition({
          tenantId: this.input.tenantId,
          workflowId: workflowInfo().workflowId,
          action,
          state: this.state,
          actor: request.actor,
          reason: request.reason ?? null,
          refusal: refusal.message,
          attemptKey: `${this.input.tenantId}:lifecycle.refused:${workflowInfo().runId}:${this.refusals}`,
        });
        throw refuse(refusal);
      }
      return change();
    });
  }

  /** Changes the state through the audited compare-and-set activity; `action` is what the audit row calls it. */
  private async transition(action: LifecycleAction, to: LifecycleState, request: LifecycleRequest, details: Record<string, unknown> = {}) {
    const from = this.state;
    await lifecycleSteps.applyLifecycleTransition({
      tenantId: this.input.tenantId,
      workflowId: workflowInfo().workflowId,
      action,
      from,
      to,
      actor: request.actor,
      reason: request.reason ?? null,
      transitionKey: this.transitionKey('lifecycle'),
      details,
    });
    this.record(action, from, to, request);
    return this.answer(action, from);
  }

  private targetOf(action: Exclude<LifecycleAction, 'forceComplete'>): LifecycleState {
    return lifecycleTarget(action, this.state, this.restoreTo);
  }

  private record(action: LifecycleAction, from: LifecycleState, to: LifecycleState, request: LifecycleRequest): void {
    this.transitionCount += 1;
    this.state = to;
    this.recent.push({ action, from, to, actor: request.actor, reason: request.reason ?? null, at: new Date().toISOString() });
    if (this.recent.length > RECENT_TRANSITIONS) this.recent.shift();
    upsertSearchAttributes([{ key: TENANT_LIFECYCLE_STATE, value: to }]);
    events.emit({ type: LIFECYCLE_EVENT[action], tenantId: this.input.tenantId, actor: request.actor, data: { from, to, reason: request.reason ?? null } });
    if (from !== to) metrics.lifecycleTransition(from, to);
  }

  private answer(action: LifecycleAction, from: LifecycleState): TransitionAnswer {
    return { tenantId: this.input.tenantId, action, from, to: this.state, deletesAt: isoOrNull(this.deletesAt), offboarding: this.offboarding !== null };
  }

  /**
   * Unique per transition of this chain of runs (continue-as-new keeps the first run id), and never reused by a
   * workflow started again later for the same tenant: a retried activity finds its own audit row, no one else's.
   */
  private transitionKey(what: string): string {
    return `${this.input.tenantId}:${what}:${workflowInfo().firstExecutionRunId}:${this.transitionCount + 1}`;
  }
}

/**
 * One per tenant (`tenant:<tenantId>`), from activation to termination. Transitions are Updates whose validators
 * refuse at once, with a reason, before anything reaches history. A soft delete waits out its retention on a durable
 * timer, then the Offboarding child runs; terminate runs it at once.
 */
export async function tenantLifecycle(input: TenantLifecycleInput): Promise<LifecycleView> {
  const lifecycle = new TenantLifecycle(input, patched('lifecycle-safe-message-handlers'));
  setHandler(lifecycleStateQuery, () => lifecycle.view());
  upsertSearchAttributes([
    { key: TENANT_ID, value: input.tenantId },
    { key: TENANT_LIFECYCLE_STATE, value: lifecycle.state },
  ]);
  setHandler(suspendUpdate, (request) => lifecycle.suspend(request), { validator: lifecycle.validator('suspend') });
  setHandler(unsuspendUpdate, (request) => lifecycle.unsuspend(request), { validator: lifecycle.validator('unsuspend') });
  setHandler(softDeleteUpdate, (request) => lifecycle.softDelete(request), { validator: lifecycle.validator('softDelete') });
  setHandler(restoreUpdate, (request) => lifecycle.restore(request), { validator: lifecycle.validator('restore') });
  for (const update of [terminateTenantUpdate, legacyTerminateTenantUpdate]) {
    setHandler(update, (request) => lifecycle.terminate(request), { validator: lifecycle.validator('terminate') });
  }
  for (const update of [forceCompleteTenantUpdate, legacyForceCompleteTenantUpdate]) {
    setHandler(update, (request) => lifecycle.forceComplete(request), { validator: lifecycle.validator('forceComplete') });
  }

  // Inputs recorded before testHooks carried the bound at the top level: read so their histories replay.
  const historyLimit = input.testHooks?.historyLimit ?? (input as { historyLimit?: number }).historyLimit ?? DEFAULT_HISTORY_LIMIT;
  const historyFull = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > historyLimit;

  while (lifecycle.offboarding === null) {
    if (lifecycle.waitsOutRetention) {
      await lifecycle.waitOutRetention();
    } else if (historyFull()) {
      await condition(allHandlersFinished);
      if (lifecycle.offboarding === null) await continueAsNew<typeof tenantLifecycle>({ ...input, state: lifecycle.state, carried: lifecycle.carry() });
    } else {
      await condition(() => lifecycle.offboarding !== null || lifecycle.waitsOutRetention || historyFull());
    }
  }

  await lifecycle.offboard();
  // Updates refused after offboarding began finish their audit row before the workflow closes.
  if (lifecycle.safeMessageHandlers) await condition(allHandlersFinished);
  return lifecycle.view();
}
