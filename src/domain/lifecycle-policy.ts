import type { TenantStatus } from './tenant-status';

export interface LifecyclePolicy {
  /** Runs may be submitted and their steps may execute. */
  allowsSdkExecution: boolean;
  /** Refresh tokens may be exchanged for new access tokens. */
  allowsTokenRefresh: boolean;
  /** Tenant-initiated writes (API keys, settings, data) are accepted. */
  allowsWrites: boolean;
}

/**
 * One row per lifecycle state: the lifecycle gate reads only this table. Offboarding and operator paths never consult
 * it, so a suspended or pending-deletion tenant cannot block its own offboarding.
 */
export const LIFECYCLE_POLICY: Record<TenantStatus, LifecyclePolicy> = {
  provisioning: { allowsSdkExecution: false, allowsTokenRefresh: false, allowsWrites: false },
  active: { allowsSdkExecution: true, allowsTokenRefresh: true, allowsWrites: true },
  suspended: { allowsSdkExecution: false, allowsTokenRefresh: false, allowsWrites: false },
  pending_deletion: { allowsSdkExecution: false, allowsTokenRefresh: false, allowsWrites: false },
  terminated: { allowsSdkExecution: false, allowsTokenRefresh: false, allowsWrites: false },
};
