import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  executeChild,
  ParentClosePolicy,
  proxyActivities,
  proxySinks,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { LifecycleActivities } from '../activities/lifecycle';
import {
  forceCompleteTenantUpdate,
  lifecycleStateQuery,
  restoreUpdate,
  softDeleteUpdate,
  suspendUpdate,
  terminateTenantUpdate,
  unsuspendUpdate,
  type LifecycleRequest,
  type LifecycleView,
  type OffboardingRequest,
  type SoftDeleteRequest,
  type TenantLifecycleInput,
  type TransitionAnswer,
  type TransitionRecord,
} from '../src/contracts/lifecycle';
import type { ControlPlaneSinks } from '../src/contracts/sinks';
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
import { offboardTenant } from './offboarding';

// A status change is one short transaction: retried with backoff; a conflict with Postgres comes back non-retryable.
const acts = proxyActivities<LifecycleActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 10 },
});

const { events, metrics } = proxySinks<ControlPlaneSinks>();

const DAY_MS = 24 * 60 * 60 * 1000;
/** Continue-as-new past this many history events, even before the server suggests it. */
const DEFAULT_HISTORY_LIMIT = 2000;
const RECENT_TRANSITIONS = 20;
const MAX_ACTOR = 200;
const MAX_REASON = 1000;

const refuse = (refusal: Refusal) => ApplicationFailure.create({ type: refusal.type, message: refusal.message, nonRetryable: true });

/**
 * One per tenant (`tenant:<tenantId>`), from activation to termination. Transitions are Updates whose validators
 * refuse at once, with a reason, before anything reaches history; accepted ones run one at a time and change
 * `tenant.status` only through an activity that audits in the same transaction. A soft delete waits out its
 * retention on a durable timer, then the Offboarding child runs; terminate runs it at once.
 */
export async function tenantLifecycle(input: TenantLifecycleInput): Promise<LifecycleView> {
  const { tenantId } = input;
  const carried = input.carried;
  let state: LifecycleState = input.state;
  let restoreTo: LifecycleState = carried?.restoreTo ?? 'active';
  let deletesAt: number | null = carried?.deletesAt ? Date.parse(carried.deletesAt) : null;
  let offboarding: OffboardingRequest | null = carried?.offboarding ?? null;
  let transitionCount = carried?.transitionCount ?? 0;
  let refusals = 0;
  const recent: TransitionRecord[] = [...(carried?.recent ?? [])];
  /** One transition at a time: a second one waits, then is judged against the state the first one left. */
  let busy = false;
  // Takes the floor without yielding between the check and the claim: several waiters can wake in one activation.
  const acquire = async () => {
    while (busy) await condition(() => !busy);
    busy = true;
  };

  const view = (): LifecycleView => ({
    tenantId,
    state,
    deletesAt: deletesAt === null ? null : new Date(deletesAt).toISOString(),
    offboarding,
    transitionCount,
    recent,
  });
  setHandler(lifecycleStateQuery, view);
  upsertSearchAttributes([
    { key: TENANT_ID, value: tenantId },
    { key: TENANT_LIFECYCLE_STATE, value: state },
  ]);

  // Unique per transition of this chain of runs (continue-as-new keeps the first run id), and never reused by a
  // workflow started again later for the same tenant: a retried activity finds its own audit row, no one else's.
  const transitionKey = (what: string) => `${tenantId}:${what}:${workflowInfo().firstExecutionRunId}:${transitionCount + 1}`;

  const refusalOf = (action: LifecycleAction, request: LifecycleRequest | undefined): Refusal | undefined => {
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
    return lifecycleRefusal({ tenantId, state, offboarding: offboarding !== null }, action);
  };
  // Validators are synchronous and see the state now; a refusal leaves no trace in history.
  const validatorFor = (action: LifecycleAction) => (request: LifecycleRequest) => {
    const refusal = refusalOf(action, request);
    if (refusal) throw refuse(refusal);
  };

  /** Serialises transitions and re-judges each once it has the floor; a refusal then is audited. */
  const exclusively = async (action: LifecycleAction, request: LifecycleRequest, change: () => Promise<TransitionAnswer>) => {
    await acquire();
    try {
      const refusal = refusalOf(action, request);
      if (refusal) {
        refusals += 1;
        await acts.recordRefusedTransition({
          tenantId,
          workflowId: workflowInfo().workflowId,
          action,
          state,
          actor: request.actor,
          reason: request.reason ?? null,
          refusal: refusal.message,
          attemptKey: `${tenantId}:lifecycle.refused:${workflowInfo().runId}:${refusals}`,
        });
        throw refuse(refusal);
      }
      return await change();
    } finally {
      busy = false;
    }
  };

  /** Changes the state through the audited compare-and-set activity; `action` is what the audit row calls it. */
  const transition = async (action: LifecycleAction, to: LifecycleState, request: LifecycleRequest, details: Record<string, unknown> = {}) => {
    const from = state;
    await acts.applyLifecycleTransition({
      tenantId,
      workflowId: workflowInfo().workflowId,
      action,
      from,
      to,
      actor: request.actor,
      reason: request.reason ?? null,
      transitionKey: transitionKey('lifecycle'),
      details,
      ...(input.transitionFailures ? { injectedFailures: input.transitionFailures } : {}),
    });
    record(action, from, to, request);
    return answer(action, from);
  };
  const targetOf = (action: Exclude<LifecycleAction, 'forceComplete'>) => lifecycleTarget(action, state, restoreTo);

  const record = (action: LifecycleAction, from: LifecycleState, to: LifecycleState, request: LifecycleRequest) => {
    transitionCount += 1;
    state = to;
    recent.push({ action, from, to, actor: request.actor, reason: request.reason ?? null, at: new Date().toISOString() });
    if (recent.length > RECENT_TRANSITIONS) recent.shift();
    upsertSearchAttributes([{ key: TENANT_LIFECYCLE_STATE, value: state }]);
    events.emit({ type: LIFECYCLE_EVENT[action], tenantId, actor: request.actor, data: { from, to, reason: request.reason ?? null } });
    if (from !== to) metrics.lifecycleTransition(from, to);
  };

  const answer = (action: LifecycleAction, from: LifecycleState): TransitionAnswer => ({
    tenantId,
    action,
    from,
    to: state,
    deletesAt: deletesAt === null ? null : new Date(deletesAt).toISOString(),
    offboarding: offboarding !== null,
  });

  const simple = (action: 'suspend' | 'unsuspend') => (request: LifecycleRequest) => exclusively(action, request, () => transition(action, targetOf(action), request));
  setHandler(suspendUpdate, simple('suspend'), { validator: validatorFor('suspend') });
  setHandler(unsuspendUpdate, simple('unsuspend'), { validator: validatorFor('unsuspend') });

  setHandler(
    softDeleteUpdate,
    (request) =>
      exclusively('softDelete', request, async () => {
        const retentionDays = request.retentionDays ?? input.defaultRetentionDays;
        const until = Date.now() + retentionDays * DAY_MS;
        const from = state;
        const result = await transition('softDelete', targetOf('softDelete'), request, { retentionDays, deletesAt: new Date(until).toISOString() });
        restoreTo = from;
        deletesAt = until;
        return { ...result, deletesAt: new Date(until).toISOString() };
      }),
    { validator: validatorFor('softDelete') },
  );

  setHandler(
    restoreUpdate,
    (request) =>
      exclusively('restore', request, async () => {
        const result = await transition('restore', targetOf('restore'), request, { restoredTo: restoreTo });
        deletesAt = null;
        return { ...result, deletesAt: null };
      }),
    { validator: validatorFor('restore') },
  );

  // OFFBOARD-002: termination is irreversible. The tenant is locked (pending deletion) at once and offboarding starts.
  setHandler(
    terminateTenantUpdate,
    (request) =>
      exclusively('terminate', request, async () => {
        const result = await transition('terminate', targetOf('terminate'), request, { offboarding: 'now' });
        offboarding = { trigger: 'terminate', actor: request.actor, reason: request.reason ?? null };
        deletesAt = null;
        return { ...result, deletesAt: null, offboarding: true };
      }),
    { validator: validatorFor('terminate') },
  );

  setHandler(
    forceCompleteTenantUpdate,
    (request) =>
      exclusively('forceComplete', request, async () => {
        const from = state;
        if (state === 'pending_deletion') {
          // Ends the retention wait now: the audit row says who cut it short and why.
          const result = await transition('forceComplete', state, request, { ended: 'retention_wait', deletesAt: deletesAt === null ? null : new Date(deletesAt).toISOString() });
          offboarding = { trigger: 'force_complete', actor: request.actor, reason: request.reason ?? null };
          deletesAt = null;
          return { ...result, deletesAt: null, offboarding: true };
        }
        try {
          await acts.forceCompleteOnboarding({
            tenantId,
            workflowId: workflowInfo().workflowId,
            actor: request.actor,
            reason: request.reason ?? null,
            transitionKey: transitionKey('onboarding.force_completed'),
          });
        } catch (error) {
          throw unwrapRefusal(error);
        }
        record('forceComplete', from, state, request);
        return answer('forceComplete', from);
      }),
    { validator: validatorFor('forceComplete') },
  );

  const historyLimit = input.historyLimit ?? DEFAULT_HISTORY_LIMIT;
  const historyFull = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > historyLimit;

  for (;;) {
    if (offboarding !== null) break;
    if (state === 'pending_deletion' && deletesAt !== null) {
      // The retention timer: durable, so a restart of every worker does not lose or reset it.
      const interrupted = await condition(() => state !== 'pending_deletion' || offboarding !== null, Math.max(deletesAt - Date.now(), 1));
      if (!interrupted && offboarding === null) {
        await acquire();
        if (state === 'pending_deletion' && offboarding === null) {
          offboarding = { trigger: 'retention_expired', actor: 'system:retention', reason: 'the retention period ended' };
        }
        busy = false;
      }
      continue;
    }
    if (historyFull()) {
      await condition(() => !busy && allHandlersFinished());
      // A deadline that passed while waiting is carried too: the next run's timer fires at once.
      if (offboarding === null) {
        await continueAsNew<typeof tenantLifecycle>({
          ...input,
          state,
          carried: {
            restoreTo,
            deletesAt: deletesAt === null ? null : new Date(deletesAt).toISOString(),
            offboarding,
            transitionCount,
            recent,
          },
        });
      }
      continue;
    }
    await condition(() => offboarding !== null || (state === 'pending_deletion' && deletesAt !== null) || historyFull());
  }

  // Waits out a transition under way; any accepted after it is re-judged and refused (offboarding has started).
  await acquire();
  busy = false;
  const request = offboarding as OffboardingRequest;
  await executeChild(offboardTenant, {
    workflowId: offboardingWorkflowId(tenantId),
    args: [{ tenantId, ...request, ...(input.offboardingFaultPlan ? { faultPlan: input.offboardingFaultPlan } : {}) }],
    // Offboarding must finish even if this workflow is closed by hand.
    parentClosePolicy: ParentClosePolicy.ABANDON,
    typedSearchAttributes: [{ key: TENANT_ID, value: tenantId }],
  });
  const from = state;
  state = 'terminated';
  deletesAt = null;
  upsertSearchAttributes([{ key: TENANT_LIFECYCLE_STATE, value: state }]);
  events.emit({ type: TERMINATED_EVENT, tenantId, actor: request.actor, data: { from, trigger: request.trigger } });
  metrics.lifecycleTransition(from, state);
  return view();
}

/** An activity's permanent refusal, as the update's own failure: the caller sees its type and words. */
function unwrapRefusal(error: unknown): unknown {
  if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure) {
    return ApplicationFailure.create({ type: error.cause.type ?? undefined, message: error.cause.message, nonRetryable: true });
  }
  return error;
}
