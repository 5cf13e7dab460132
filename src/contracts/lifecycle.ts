/**
 * Sandbox-safe contract of the tenant lifecycle and offboarding workflows, shared by the workflows, their activities,
 * the API, the Temporal CLI docs and tests. Imports nothing that touches Node APIs.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { LifecycleAction, LifecycleState } from '../domain/lifecycle';

export type { LifecycleAction, LifecycleState } from '../domain/lifecycle';

export interface TenantLifecycleInput {
  tenantId: string;
  slug?: string;
  /** The state in Postgres when the workflow (or its continued run) starts. */
  state: LifecycleState;
  /** Retention used by a soft delete that names none. */
  defaultRetentionDays: number;
  /** Carried across continue-as-new; absent on the first run. */
  carried?: LifecycleCarry;
  /** Never set in production (no service or route passes it): what a test may change to reach a branch sooner. */
  testHooks?: LifecycleTestHooks;
}

export interface LifecycleTestHooks {
  /** Continue-as-new past this many history events instead of the default 2,000. */
  historyLimit?: number;
}

/** What a continued run must remember. */
export interface LifecycleCarry {
  restoreTo: LifecycleState;
  /** ISO time the retention timer fires, while pending deletion. */
  deletesAt: string | null;
  offboarding: OffboardingRequest | null;
  transitionCount: number;
  recent: TransitionRecord[];
}

/** Every update takes who acts and why; the API fills `actor` from the operator's credential. */
export interface LifecycleRequest {
  actor: string;
  reason?: string;
}

export interface SoftDeleteRequest extends LifecycleRequest {
  retentionDays?: number;
}

export interface TransitionRecord {
  action: LifecycleAction;
  from: LifecycleState;
  to: LifecycleState;
  actor: string;
  reason: string | null;
  at: string;
}

export interface TransitionAnswer {
  tenantId: string;
  action: LifecycleAction;
  from: LifecycleState;
  to: LifecycleState;
  /** Set when the tenant waits out a retention period. */
  deletesAt: string | null;
  /** True when offboarding has started (terminate, or force-complete of a retention wait). */
  offboarding: boolean;
}

export interface LifecycleView {
  tenantId: string;
  state: LifecycleState;
  deletesAt: string | null;
  offboarding: OffboardingRequest | null;
  transitionCount: number;
  /** The latest transitions of this run of the workflow (the audit trail keeps all of them). */
  recent: TransitionRecord[];
}

export const suspendUpdate = defineUpdate<TransitionAnswer, [LifecycleRequest]>('suspend');
export const unsuspendUpdate = defineUpdate<TransitionAnswer, [LifecycleRequest]>('unsuspend');
export const softDeleteUpdate = defineUpdate<TransitionAnswer, [SoftDeleteRequest]>('softDelete');
export const restoreUpdate = defineUpdate<TransitionAnswer, [LifecycleRequest]>('restore');
export const terminateTenantUpdate = defineUpdate<TransitionAnswer, [LifecycleRequest]>('terminateTenant');
/** Ends a running retention wait now (offboarding starts), or marks a stuck onboarding complete. */
export const forceCompleteTenantUpdate = defineUpdate<TransitionAnswer, [LifecycleRequest]>('forceCompleteTenant');
/**
 * The names these two updates had while run and tenant workflows shared them (`terminate` read like Temporal's own
 * terminate). Still registered, so histories and callers that use them keep working; send the new names.
 */
export const legacyTerminateTenantUpdate = defineUpdate<TransitionAnswer, [LifecycleRequest]>('terminate');
export const legacyForceCompleteTenantUpdate = defineUpdate<TransitionAnswer, [LifecycleRequest]>('forceComplete');
export const lifecycleStateQuery = defineQuery<LifecycleView>('lifecycleState');

export type OffboardingTrigger = 'retention_expired' | 'terminate' | 'force_complete';

export interface OffboardingRequest {
  trigger: OffboardingTrigger;
  actor: string;
  reason: string | null;
}

export interface OffboardTenantInput extends OffboardingRequest {
  tenantId: string;
}

export const OFFBOARDING_STEPS = ['revokeCredentials', 'cancelRuns', 'exportArchive', 'purgeData', 'markTerminated'] as const;
export type OffboardingStep = (typeof OFFBOARDING_STEPS)[number];

export interface OffboardingProgress {
  tenantId: string;
  trigger: OffboardingTrigger;
  currentStep: OffboardingStep | null;
  completed: OffboardingStep[];
  archiveChecksum: string | null;
}

export interface OffboardingResult {
  tenantId: string;
  archiveChecksum: string;
  runsTerminated: number;
}

export const offboardingProgressQuery = defineQuery<OffboardingProgress>('offboardingProgress');

/** Activity input of every lifecycle step: who acts, under which workflow, and the transition's idempotency key. */
export interface LifecycleStepContext {
  tenantId: string;
  workflowId: string;
}

export interface ApplyTransitionInput extends LifecycleStepContext {
  action: LifecycleAction;
  from: LifecycleState;
  to: LifecycleState;
  actor: string;
  reason: string | null;
  /** Unique per transition of this tenant: a retried activity writes its change and audit row once. */
  transitionKey: string;
  details?: Record<string, unknown>;
}
