import { allow, block, type GateDecision } from '../domain/gate-decision';
import { LIFECYCLE_POLICY, type LifecyclePolicy } from '../domain/lifecycle-policy';
import { outranksOrEquals, type PermissionAccess } from '../domain/permissions';
import type { MembershipRole, TenantStatus } from '../domain/tenant-status';

/** The execution boundaries where the lifecycle gate is consulted, and the policy column each one reads. */
export const LIFECYCLE_BOUNDARIES = {
  run_submission: 'allowsSdkExecution',
  token_refresh: 'allowsTokenRefresh',
  write: 'allowsWrites',
} as const satisfies Record<string, keyof LifecyclePolicy>;

export type LifecycleBoundary = keyof typeof LIFECYCLE_BOUNDARIES;

const BOUNDARY_WORDS: Record<LifecycleBoundary, string> = {
  run_submission: 'runs cannot be submitted',
  token_refresh: 'tokens cannot be refreshed',
  write: 'changes are not accepted',
};

/** Whether a tenant in `status` may pass `boundary`; the reason names the state so the client knows why. */
export function lifecycleDecision(status: TenantStatus, boundary: LifecycleBoundary): GateDecision {
  if (LIFECYCLE_POLICY[status][LIFECYCLE_BOUNDARIES[boundary]]) return allow('lifecycle');
  return block('lifecycle', `tenant is ${status}: ${BOUNDARY_WORDS[boundary]}`);
}

/** States in which nobody acts as the tenant: it does not exist yet, or no longer. */
const CLOSED_STATES: ReadonlySet<TenantStatus> = new Set(['provisioning', 'terminated']);

/**
 * Any request a tenant's own credentials make. Outside `active` only owners and admins are served (to read, export,
 * pay, revoke keys), and only signed in: API keys are blocked until the tenant is active again (not revoked, so an
 * unsuspension brings its automations back); writes follow the policy table; revoking access is always allowed while
 * the tenant exists.
 */
export function tenantRequestDecision(input: { status: TenantStatus; role: MembershipRole; access: PermissionAccess; credential?: 'user' | 'api_key' }): GateDecision {
  const { status, role, access } = input;
  if (CLOSED_STATES.has(status)) return block('lifecycle', `tenant is ${status}`);
  if (status !== 'active' && input.credential === 'api_key') return block('lifecycle', `tenant is ${status}: API keys are blocked until it is active again`);
  if (status !== 'active' && !outranksOrEquals(role, 'admin')) return block('lifecycle', `tenant is ${status}: only owners and admins are served`);
  if (access === 'write') return lifecycleDecision(status, 'write');
  return allow('lifecycle');
}
