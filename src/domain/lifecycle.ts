/**
 * The tenant lifecycle's rules: which transition is allowed from which state, who may never be touched, and how
 * onboarding moves forward. Pure: the lifecycle workflow, its activities, the API and tests share these.
 */
import type { OnboardingState, TenantStatus } from './tenant-status';
import { operatorOutranksOrEquals, type OperatorRole } from './permissions';

/** The states the lifecycle workflow steers; `provisioning` belongs to the signup saga and ends before it starts. */
export const LIFECYCLE_STATES = ['active', 'suspended', 'pending_deletion', 'terminated'] as const;
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

export const LIFECYCLE_ACTIONS = ['suspend', 'unsuspend', 'softDelete', 'restore', 'terminate', 'forceComplete'] as const;
export type LifecycleAction = (typeof LIFECYCLE_ACTIONS)[number];

/**
 * The platform's own tenant (migration 20261123060000 seeds it). It runs the platform, so nobody may suspend,
 * delete or terminate it.
 */
export const SYSTEM_TENANT_ID = '00000000-0000-0000-0000-000000000001';
export const SYSTEM_TENANT_SLUG = 'system';

export const DEFAULT_RETENTION_DAYS = 30;
export const MAX_RETENTION_DAYS = 3650;
/** Shortest retention an operator below TERMINATE_ROLE may give a soft delete (TENANT_RETENTION_FLOOR_DAYS). */
export const DEFAULT_RETENTION_FLOOR_DAYS = 7;
/** Who may terminate a tenant (the terminate route's gate); they alone may soft-delete below the floor. */
export const TERMINATE_ROLE: OperatorRole = 'founder';

export const LifecycleRefusal = {
  /** OFFBOARD-002: termination is irreversible. */
  Terminated: 'TenantTerminated',
  Offboarding: 'OffboardingUnderWay',
  SystemTenant: 'SystemTenantProtected',
  NotAllowed: 'TransitionNotAllowed',
  ActorRequired: 'ActorRequired',
  BadRetention: 'BadRetention',
  NothingToForceComplete: 'NothingToForceComplete',
  Provisioning: 'TenantProvisioning',
  /** Postgres no longer holds the state the workflow expected (changed behind its back). */
  StateConflict: 'LifecycleStateConflict',
} as const;
export type LifecycleRefusalType = (typeof LifecycleRefusal)[keyof typeof LifecycleRefusal];

export interface Refusal {
  type: LifecycleRefusalType;
  message: string;
}

/** What the tenant is doing right now, as far as the rules care. */
export interface LifecycleSituation {
  tenantId: string;
  state: LifecycleState;
  /** Offboarding has started (retention fired, terminate or force-complete): there is no way back. */
  offboarding: boolean;
}

/** From which states each state-changing action may start. */
const ALLOWED_FROM: Record<Exclude<LifecycleAction, 'forceComplete'>, readonly LifecycleState[]> = {
  suspend: ['active'],
  unsuspend: ['suspended'],
  softDelete: ['active', 'suspended'],
  restore: ['pending_deletion'],
  terminate: ['active', 'suspended', 'pending_deletion'],
};

const GUARDED_FOR_SYSTEM: readonly LifecycleAction[] = ['suspend', 'softDelete', 'terminate'];

const WORDS: Record<LifecycleAction, string> = {
  suspend: 'suspended',
  unsuspend: 'unsuspended',
  softDelete: 'deleted',
  restore: 'restored',
  terminate: 'terminated',
  forceComplete: 'force-completed',
};

/** Why `action` cannot happen now, or undefined when it can. The order matters: the strongest reason wins. */
export function lifecycleRefusal(situation: LifecycleSituation, action: LifecycleAction): Refusal | undefined {
  if (situation.state === 'terminated') {
    return { type: LifecycleRefusal.Terminated, message: 'the tenant is terminated: termination is irreversible and nothing can change it' };
  }
  if (situation.tenantId === SYSTEM_TENANT_ID && GUARDED_FOR_SYSTEM.includes(action)) {
    return { type: LifecycleRefusal.SystemTenant, message: `the system tenant cannot be ${WORDS[action]}` };
  }
  if (situation.offboarding) {
    return { type: LifecycleRefusal.Offboarding, message: 'the tenant is being offboarded: termination has started and cannot be undone' };
  }
  // Outside a retention wait, force-complete acts on onboarding, which lives in Postgres: its activity decides.
  if (action === 'forceComplete') return undefined;
  if (!ALLOWED_FROM[action].includes(situation.state)) {
    return { type: LifecycleRefusal.NotAllowed, message: `a ${situation.state.replace('_', ' ')} tenant cannot be ${WORDS[action]}` };
  }
  return undefined;
}

/** The state an allowed action leads to. Terminate locks the tenant as pending deletion while offboarding runs. */
export function lifecycleTarget(action: Exclude<LifecycleAction, 'forceComplete'>, state: LifecycleState, restoreTo: LifecycleState): LifecycleState {
  switch (action) {
    case 'suspend':
      return 'suspended';
    case 'unsuspend':
      return 'active';
    case 'softDelete':
    case 'terminate':
      return 'pending_deletion';
    case 'restore':
      return restoreTo;
  }
  return state;
}

export function retentionProblem(days: unknown): string | undefined {
  if (days === undefined) return undefined;
  if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > MAX_RETENTION_DAYS) {
    return `retentionDays must be a whole number from 1 to ${MAX_RETENTION_DAYS}`;
  }
  return undefined;
}

/**
 * A soft delete whose retention is shorter than the floor is a termination in all but name (issue 21 item 8): only an
 * operator who passes the terminate gate may ask for one. Undefined when allowed.
 */
export function retentionFloorProblem(input: { retentionDays: number | undefined; floorDays: number; operatorRole: OperatorRole }): string | undefined {
  if (input.retentionDays === undefined || input.retentionDays >= input.floorDays) return undefined;
  if (operatorOutranksOrEquals(input.operatorRole, TERMINATE_ROLE)) return undefined;
  return `the retention floor is ${input.floorDays} days: a shorter retention takes the ${TERMINATE_ROLE} role that terminate takes`;
}

/** Audit action and event type of each transition: what an operator greps for. */
export const LIFECYCLE_EVENT: Record<LifecycleAction, string> = {
  suspend: 'lifecycle.suspended',
  unsuspend: 'lifecycle.unsuspended',
  softDelete: 'lifecycle.soft_deleted',
  restore: 'lifecycle.restored',
  terminate: 'lifecycle.terminate_requested',
  forceComplete: 'lifecycle.force_completed',
};
export const TERMINATED_EVENT = 'lifecycle.terminated';
export const REFUSED_EVENT = 'lifecycle.transition_refused';

export const isLifecycleState = (status: TenantStatus): status is LifecycleState => (LIFECYCLE_STATES as readonly string[]).includes(status);

/** Milestones that move onboarding forward. */
export type OnboardingMilestone = 'api_key_created' | 'run_completed';

/**
 * Onboarding only moves forward: provisioned → first_api_key / first_run → complete once both milestones happened.
 * Returns the next state, or undefined when the milestone changes nothing.
 */
export function nextOnboardingState(current: OnboardingState | null | undefined, milestone: OnboardingMilestone): OnboardingState | undefined {
  if (current === null || current === undefined || current === 'complete') return undefined;
  if (milestone === 'api_key_created') {
    if (current === 'provisioned') return 'first_api_key';
    if (current === 'first_run') return 'complete';
    return undefined;
  }
  if (current === 'provisioned') return 'first_run';
  if (current === 'first_api_key') return 'complete';
  return undefined;
}
