import { EntitySchema } from '@mikro-orm/core';
import { MEMBERSHIP_ROLES, type MembershipRole } from '../../domain/tenant-status';
import { Tenant } from './tenant';

/** A tenant's machine credential. Only the SHA-256 of the key is kept; the prefix is what people see. */
export class ApiKey {
  id!: string;
  tenant!: Tenant;
  name!: string;
  role!: MembershipRole;
  prefix!: string;
  keyHash!: string;
  /** Audit actor of the creator (`user:<id>`). */
  createdBy!: string;
  /**
   * The member the key speaks for: it lives only while they are a member of at least its role (null for keys made by
   * operators or set-up code). No foreign key on purpose: a purged user leaves an id no membership matches, so the
   * key stays dead rather than becoming ownerless.
   */
  createdByUserId?: string | null;
  createdAt: Date = new Date();
  expiresAt?: Date | null;
  /** Kept coarsely (at most one write per key every few minutes, off the request path). */
  lastUsedAt?: Date | null;
  revokedAt?: Date | null;
  revokedBy?: string | null;
}

export const ApiKeySchema = new EntitySchema<ApiKey>({
  class: ApiKey,
  tableName: 'api_key',
  indexes: [
    { name: 'api_key_tenant_index', properties: ['tenant', 'createdAt'] },
    { name: 'api_key_creator_index', properties: ['tenant', 'createdByUserId'] },
  ],
  properties: {
    id: { type: 'uuid', primary: true },
    tenant: { kind: 'm:1', entity: () => Tenant, deleteRule: 'cascade' },
    name: { type: 'string', length: 100 },
    role: { enum: true, items: () => [...MEMBERSHIP_ROLES] },
    prefix: { type: 'string', length: 20, unique: 'api_key_prefix_unique' },
    keyHash: { type: 'string', length: 64, unique: 'api_key_key_hash_unique', lazy: true },
    createdBy: { type: 'string', length: 200 },
    createdByUserId: { type: 'uuid', nullable: true },
    createdAt: { type: 'datetime', onCreate: () => new Date() },
    expiresAt: { type: 'datetime', nullable: true },
    lastUsedAt: { type: 'datetime', nullable: true },
    revokedAt: { type: 'datetime', nullable: true },
    revokedBy: { type: 'string', length: 200, nullable: true },
  },
});
