import { EntitySchema } from '@mikro-orm/core';
import { EMAIL_VERIFICATION_STATES, type EmailVerificationState } from '../../domain/email-verification';
import { ONBOARDING_STATES, TENANT_STATUSES, type OnboardingState, type TenantStatus } from '../../domain/tenant-status';

export class Tenant {
  id!: string;
  /** Null once a purged, never-verified signup's tombstone has given the name back (releasedSlug keeps what it was). */
  slug!: string | null;
  releasedSlug?: string | null;
  name!: string;
  status!: TenantStatus;
  onboardingState?: OnboardingState | null;
  onboardingUpdatedAt?: Date | null;
  /** Which workflow holds this row; a rollback only removes the row its own saga created. */
  provisioningWorkflowId!: string;
  /** The signup's email: unverified tenants work within UNVERIFIED_* limits and are offboarded after the deadline. */
  emailVerification?: EmailVerificationState;
  emailVerifiedAt?: Date | null;
  verificationDeadline?: Date | null;
  createdAt: Date = new Date();
  updatedAt: Date = new Date();
}

export const TenantSchema = new EntitySchema<Tenant>({
  class: Tenant,
  tableName: 'tenant',
  properties: {
    id: { type: 'uuid', primary: true },
    slug: { type: 'string', length: 63, unique: 'tenant_slug_unique', nullable: true },
    releasedSlug: { type: 'string', length: 63, nullable: true },
    name: { type: 'string', length: 200 },
    status: { enum: true, items: () => [...TENANT_STATUSES], nativeEnumName: undefined, index: 'tenant_status_index' },
    onboardingState: { enum: true, items: () => [...ONBOARDING_STATES], nullable: true },
    onboardingUpdatedAt: { type: 'datetime', nullable: true },
    provisioningWorkflowId: { type: 'string', length: 200 },
    emailVerification: { enum: true, items: () => [...EMAIL_VERIFICATION_STATES], default: 'not_required' },
    emailVerifiedAt: { type: 'datetime', nullable: true },
    verificationDeadline: { type: 'datetime', nullable: true },
    createdAt: { type: 'datetime', onCreate: () => new Date() },
    updatedAt: { type: 'datetime', onCreate: () => new Date(), onUpdate: () => new Date() },
  },
});
