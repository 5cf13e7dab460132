import type { Limits } from './limits';

/** Every request budget is counted per minute. */
export const REQUEST_WINDOW_SECONDS = 60;

/**
 * The policies a client is told about in `RateLimit-Policy` / `RateLimit` (draft-ietf-httpapi-ratelimit-headers):
 * `credential` and `tenant` for tenant callers, `operator` for platform operators, `address` for requests without a
 * proven credential, `anonymous` for the ceiling all of those share.
 */
export type RequestPolicyName = 'credential' | 'tenant' | 'operator' | 'address' | 'anonymous';

/** A budget of one policy: how many requests a bucket may count in one window. */
export interface RequestBudget {
  policy: RequestPolicyName;
  quota: number;
}

/**
 * One credential (an API key, or one user's sessions) may use half of its tenant's budget: a leaked or runaway key
 * cannot take the whole tenant down, and the tenant's other people and keys keep the rest.
 */
const CREDENTIAL_SHARE = 0.5;

/**
 * The budgets of a tenant's request from its plan (`Limits.derive`). `scalePercent` is the deployment's lever
 * (TENANT_REQUEST_BUDGET_PERCENT) to raise or lower every plan at once without a release.
 */
export function tenantRequestBudgets(limits: Pick<Limits, 'requestsPerMinute'>, scalePercent = 100): { credential: RequestBudget; tenant: RequestBudget } {
  const tenant = Math.max(1, Math.round((limits.requestsPerMinute * scalePercent) / 100));
  return {
    credential: { policy: 'credential', quota: Math.max(1, Math.ceil(tenant * CREDENTIAL_SHARE)) },
    tenant: { policy: 'tenant', quota: tenant },
  };
}
