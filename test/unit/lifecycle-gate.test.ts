import { LIFECYCLE_BOUNDARIES, lifecycleDecision, tenantRequestDecision, type LifecycleBoundary } from '../../src/gates/lifecycle-gate';
import { MEMBERSHIP_ROLES, TENANT_STATUSES, type TenantStatus } from '../../src/domain/tenant-status';

/** Written out, not derived from the policy table: changing the policy must change this test too. */
const EXPECTED: Record<TenantStatus, Record<LifecycleBoundary, boolean>> = {
  provisioning: { run_submission: false, token_refresh: false, write: false },
  active: { run_submission: true, token_refresh: true, write: true },
  suspended: { run_submission: false, token_refresh: false, write: false },
  pending_deletion: { run_submission: false, token_refresh: false, write: false },
  terminated: { run_submission: false, token_refresh: false, write: false },
};

describe('lifecycle gate: state by boundary', () => {
  const cells = TENANT_STATUSES.flatMap((status) => (Object.keys(LIFECYCLE_BOUNDARIES) as LifecycleBoundary[]).map((boundary) => [status, boundary] as const));

  it.each(cells)('%s at %s decides as the written table says, naming the state when it blocks', (status, boundary) => {
    const decision = lifecycleDecision(status, boundary);
    expect(decision.allowed).toBe(EXPECTED[status][boundary]);
    expect(decision.gate).toBe('lifecycle');
    expect(decision.outcome).toBe(EXPECTED[status][boundary] ? 'allow' : 'block');
    if (!decision.allowed) expect(decision.reason).toContain(`tenant is ${status}`);
  });
});

describe('lifecycle gate: tenant requests by state, role and access', () => {
  const admins = new Set(['owner', 'admin']);
  const cases = TENANT_STATUSES.flatMap((status) =>
    MEMBERSHIP_ROLES.flatMap((role) => (['read', 'write', 'revoke'] as const).map((access) => [status, role, access] as const)),
  );

  it.each(cases)('%s tenant, %s, %s', (status, role, access) => {
    const decision = tenantRequestDecision({ status, role, access });
    let expected: boolean;
    if (status === 'provisioning' || status === 'terminated') expected = false;
    else if (status === 'active') expected = true;
    // Suspended and pending deletion: owners and admins read and revoke (export, pay, kill a leaked key); nobody writes.
    else expected = admins.has(role) && access !== 'write';
    expect(decision.allowed).toBe(expected);
    if (!decision.allowed) expect(decision.reason).toContain(`tenant is ${status}`);
  });
});

describe('lifecycle gate: API keys', () => {
  it.each(TENANT_STATUSES)('serve an owner key in a %s tenant only while it is active (blocked, not revoked, otherwise)', (status) => {
    const decision = tenantRequestDecision({ status, role: 'owner', access: 'read', credential: 'api_key' });
    expect(decision.allowed).toBe(status === 'active');
    if (!decision.allowed) expect(decision.reason).toContain(`tenant is ${status}`);
  });
});
