import { EntitySchema } from '@mikro-orm/core';
import { Tenant } from './tenant';
import { User } from './user';

export const REFRESH_TOKEN_REVOCATION_REASONS = ['rotated', 'logout', 'reuse_detected', 'membership_gone', 'offboarded', 'password_reset', 'logout_everywhere', 'role_changed', 'tenant_suspended', 'tenant_deleted'] as const;
export type RefreshTokenRevocationReason = (typeof REFRESH_TOKEN_REVOCATION_REASONS)[number];

/**
 * One refresh token of a login session. Each use rotates it (the old row is revoked as `rotated` and points at its
 * successor); all rows of one login share a family, so presenting a rotated token again revokes the whole family.
 */
export class RefreshToken {
  id!: string;
  familyId!: string;
  user!: User;
  tenant!: Tenant;
  tokenHash!: string;
  expiresAt!: Date;
  createdAt: Date = new Date();
  revokedAt?: Date | null;
  revokedReason?: RefreshTokenRevocationReason | null;
  replacedBy?: string | null;
}

export const RefreshTokenSchema = new EntitySchema<RefreshToken>({
  class: RefreshToken,
  tableName: 'refresh_token',
  indexes: [{ name: 'refresh_token_family_index', properties: ['familyId'] }],
  properties: {
    id: { type: 'uuid', primary: true },
    familyId: { type: 'uuid' },
    user: { kind: 'm:1', entity: () => User, deleteRule: 'cascade', index: 'refresh_token_user_index' },
    tenant: { kind: 'm:1', entity: () => Tenant, deleteRule: 'cascade', index: 'refresh_token_tenant_index' },
    tokenHash: { type: 'string', length: 64, unique: 'refresh_token_token_hash_unique' },
    expiresAt: { type: 'datetime' },
    createdAt: { type: 'datetime', onCreate: () => new Date() },
    revokedAt: { type: 'datetime', nullable: true },
    revokedReason: { enum: true, items: () => [...REFRESH_TOKEN_REVOCATION_REASONS], nullable: true },
    replacedBy: { type: 'uuid', nullable: true },
  },
});
