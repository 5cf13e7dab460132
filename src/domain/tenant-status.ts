/**
 * The one canonical lifecycle field of a tenant (`tenant.status`).
 * `provisioning` is the slug reservation held by an unfinished signup saga: it exists so a half-built tenant is
 * never mistaken for a live one, and it only ever moves to `active` or disappears when the saga rolls back.
 */
export const TENANT_STATUSES = ['provisioning', 'active', 'suspended', 'pending_deletion', 'terminated'] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

export const ONBOARDING_STATES = ['provisioned', 'first_api_key', 'first_run', 'complete'] as const;
export type OnboardingState = (typeof ONBOARDING_STATES)[number];

export const MEMBERSHIP_ROLES = ['owner', 'admin', 'member', 'viewer'] as const;
export type MembershipRole = (typeof MEMBERSHIP_ROLES)[number];

export const PLANS = ['trial', 'starter', 'pro', 'enterprise'] as const;
export type Plan = (typeof PLANS)[number];

export const SUBSCRIPTION_STATES = ['trial', 'active', 'grace', 'expired', 'suspended'] as const;
export type SubscriptionState = (typeof SUBSCRIPTION_STATES)[number];

export const TRIAL_DAYS = 14;

/** Postgres schema that holds one tenant's own tables; derived, never stored, so it cannot drift from the id. */
export function tenantSchemaName(tenantId: string): string {
  return `tenant_${tenantId.replace(/-/g, '')}`;
}
