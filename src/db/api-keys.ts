import type { EntityManager } from '@mikro-orm/postgresql';
import type { MembershipRole } from '../domain/tenant-status';

/** Every live key of a tenant, revoked in the caller's transaction (termination: nothing of the tenant acts again). */
export async function revokeTenantApiKeys(em: EntityManager, input: { tenantId: string; actor: string; at: Date }): Promise<number> {
  const result = await em.execute<{ affectedRows: number }>('update api_key set revoked_at = ?, revoked_by = ? where tenant_id = ? and revoked_at is null', [input.at, input.actor, input.tenantId], 'run');
  return result.affectedRows;
}

export interface ApiKeyRecord {
  id: string;
  name: string;
  role: MembershipRole;
  prefix: string;
  createdBy: string;
  createdByUserId: string | null;
  /** The creator's address while they have an account; null for keys no member made. */
  createdByEmail: string | null;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

type ApiKeyRow = {
  id: string;
  name: string;
  role: MembershipRole;
  prefix: string;
  created_by: string;
  created_by_user_id: string | null;
  created_by_email: string | null;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
};

const record = (row: ApiKeyRow): ApiKeyRecord => ({
  id: row.id,
  name: row.name,
  role: row.role,
  prefix: row.prefix,
  createdBy: row.created_by,
  createdByUserId: row.created_by_user_id,
  createdByEmail: row.created_by_email,
  createdAt: new Date(row.created_at),
  expiresAt: row.expires_at === null ? null : new Date(row.expires_at),
  lastUsedAt: row.last_used_at === null ? null : new Date(row.last_used_at),
  revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
});

const SELECT_KEYS = `select k.id, k.name, k.role, k.prefix, k.created_by, k.created_by_user_id, u.email as created_by_email, k.created_at, k.expires_at, k.last_used_at, k.revoked_at
  from api_key k left join app_user u on u.id = k.created_by_user_id`;

export async function listApiKeys(em: EntityManager, tenantId: string): Promise<ApiKeyRecord[]> {
  const rows = await em.execute<ApiKeyRow[]>(`${SELECT_KEYS} where k.tenant_id = ? order by k.created_at desc, k.id`, [tenantId]);
  return rows.map(record);
}

export async function insertApiKey(
  em: EntityManager,
  input: { id: string; tenantId: string; name: string; role: MembershipRole; prefix: string; keyHash: string; createdBy: string; createdByUserId: string | null; createdAt: Date; expiresAt: Date | null },
): Promise<void> {
  await em.execute(
    `insert into api_key (id, tenant_id, name, role, prefix, key_hash, created_by, created_by_user_id, created_at, expires_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [input.id, input.tenantId, input.name, input.role, input.prefix, input.keyHash, input.createdBy, input.createdByUserId, input.createdAt, input.expiresAt],
    'run',
  );
}

/** A key of the tenant, locked for a change of owner. */
export async function lockApiKey(em: EntityManager, input: { tenantId: string; keyId: string }): Promise<{ role: MembershipRole; revokedAt: Date | null; createdByUserId: string | null } | undefined> {
  const [row] = await em.execute<Array<{ role: MembershipRole; revoked_at: Date | null; created_by_user_id: string | null }>>(
    'select role, revoked_at, created_by_user_id from api_key where id = ? and tenant_id = ? for update',
    [input.keyId, input.tenantId],
  );
  return row ? { role: row.role, revokedAt: row.revoked_at, createdByUserId: row.created_by_user_id } : undefined;
}

export async function setApiKeyOwner(em: EntityManager, input: { keyId: string; userId: string }): Promise<void> {
  await em.execute('update api_key set created_by_user_id = ? where id = ?', [input.userId, input.keyId], 'run');
}

export async function findApiKey(em: EntityManager, input: { tenantId: string; keyId: string }): Promise<ApiKeyRecord | undefined> {
  const [row] = await em.execute<ApiKeyRow[]>(`${SELECT_KEYS} where k.tenant_id = ? and k.id = ?`, [input.tenantId, input.keyId]);
  return row ? record(row) : undefined;
}

/** A member's role in the tenant, locked against a concurrent change, or undefined when they are not a member. */
export async function lockMemberRole(em: EntityManager, input: { tenantId: string; userId: string }): Promise<MembershipRole | undefined> {
  const [row] = await em.execute<Array<{ role: MembershipRole }>>('select role from tenant_membership where tenant_id = ? and user_id = ? for share', [input.tenantId, input.userId]);
  return row?.role;
}
