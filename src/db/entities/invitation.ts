import { EntitySchema } from '@mikro-orm/core';
import { INVITATION_STATUSES, type InvitationStatus } from '../../domain/invitation';
import { MEMBERSHIP_ROLES, type MembershipRole } from '../../domain/tenant-status';
import { Tenant } from './tenant';

/** A person asked to join a tenant with a role. A pending one holds a seat until it is accepted, revoked or expires. */
export class Invitation {
  id!: string;
  tenant!: Tenant;
  /** Lower-cased, like app_user.email. */
  email!: string;
  role!: MembershipRole;
  status!: InvitationStatus;
  invitedBy!: string;
  expiresAt!: Date;
  acceptedUserId?: string | null;
  createdAt: Date = new Date();
  updatedAt: Date = new Date();
}

export const InvitationSchema = new EntitySchema<Invitation>({
  class: Invitation,
  tableName: 'invitation',
  indexes: [{ name: 'invitation_tenant_status_index', properties: ['tenant', 'status'] }],
  properties: {
    id: { type: 'uuid', primary: true },
    tenant: { kind: 'm:1', entity: () => Tenant, deleteRule: 'cascade' },
    email: { type: 'string', length: 320 },
    role: { enum: true, items: () => [...MEMBERSHIP_ROLES] },
    status: { enum: true, items: () => [...INVITATION_STATUSES] },
    invitedBy: { type: 'string', length: 200 },
    expiresAt: { type: 'datetime' },
    acceptedUserId: { type: 'uuid', nullable: true },
    createdAt: { type: 'datetime', onCreate: () => new Date(), defaultRaw: 'now()' },
    updatedAt: { type: 'datetime', onCreate: () => new Date(), defaultRaw: 'now()', onUpdate: () => new Date() },
  },
});
