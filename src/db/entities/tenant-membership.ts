import { EntitySchema } from '@mikro-orm/core';
import { MEMBERSHIP_ROLES, type MembershipRole } from '../../domain/tenant-status';
import { Tenant } from './tenant';
import { User } from './user';

export class TenantMembership {
  id!: string;
  tenant!: Tenant;
  user!: User;
  role!: MembershipRole;
  /**
   * Every access token of this person in this tenant carries the generation it was issued under; the authenticator
   * compares it on each request, so one increment ends them all at once, on every API process.
   */
  sessionGeneration = 0;
  createdAt: Date = new Date();
}

export const TenantMembershipSchema = new EntitySchema<TenantMembership>({
  class: TenantMembership,
  tableName: 'tenant_membership',
  uniques: [{ name: 'tenant_membership_tenant_user_unique', properties: ['tenant', 'user'] }],
  properties: {
    id: { type: 'uuid', primary: true },
    tenant: { kind: 'm:1', entity: () => Tenant, deleteRule: 'cascade' },
    user: { kind: 'm:1', entity: () => User, deleteRule: 'cascade', index: 'tenant_membership_user_index' },
    role: { enum: true, items: () => [...MEMBERSHIP_ROLES] },
    sessionGeneration: { type: 'integer', default: 0 },
    createdAt: { type: 'datetime', onCreate: () => new Date() },
  },
});
