import type { EntityManager } from '@mikro-orm/postgresql';
import type { MembershipRole, TenantStatus } from '../domain/tenant-status';

/**
 * What the authenticator reads for each request, one statement per credential: the row that proves the credential
 * still stands, with the tenant's status and, for a key, its creator's standing. Nothing here writes, except the coarse
 * `last_used_at` of a key, which the caller fires off the request path.
 */

export interface ApiKeyStanding {
  id: string;
  tenantId: string;
  role: MembershipRole;
  revokedAt: Date | null;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  tenantStatus: TenantStatus;
  /** Null for a key no member made (operators, set-up code). */
  creatorUserId: string | null;
  /** The creator's role in the key's tenant now; null when they are no longer a member. */
  creatorRole: MembershipRole | null;
}

export async function findApiKeyStanding(em: EntityManager, keyHash: string): Promise<ApiKeyStanding | undefined> {
  const [row] = await em.execute<
    Array<{ id: string; tenant_id: string; role: MembershipRole; revoked_at: Date | null; expires_at: Date | null; last_used_at: Date | null; status: TenantStatus; created_by_user_id: string | null; creator_role: MembershipRole | null }>
  >(
    `select k.id, k.tenant_id, k.role, k.revoked_at, k.expires_at, k.last_used_at, t.status, k.created_by_user_id, c.role as creator_role
       from api_key k
       join tenant t on t.id = k.tenant_id
       left join tenant_membership c on c.tenant_id = k.tenant_id and c.user_id = k.created_by_user_id
      where k.key_hash = ?`,
    [keyHash],
  );
  if (!row) return undefined;
  return {
    id: row.id,
    tenantId: row.tenant_id,
    role: row.role,
    revokedAt: row.revoked_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    tenantStatus: row.status,
    creatorUserId: row.created_by_user_id,
    creatorRole: row.creator_role,
  };
}

/**
 * Records a key's use unless another request (on any process) recorded one within `coarseness`: at most one write per
 * key per window, whatever the traffic.
 */
export async function touchApiKey(em: EntityManager, input: { keyId: string; at: Date; coarsenessMs: number }): Promise<void> {
  await em.execute(
    `update api_key set last_used_at = ? where id = ? and (last_used_at is null or last_used_at < ?)`,
    [input.at, input.keyId, new Date(input.at.getTime() - input.coarsenessMs)],
    'run',
  );
}

export interface SessionStanding {
  role: MembershipRole;
  tenantStatus: TenantStatus;
  /** The token's generation is the membership's current one (no reset, removal, role change or logout-everywhere since). */
  generationCurrent: boolean;
  /** The token's login still has a refresh token nobody revoked (no logout of that device, no reuse detected). */
  sessionLive: boolean;
}

/**
 * The membership an access token speaks for, and whether the token's session still stands, in the one statement the
 * request already needed for the role: ending sessions costs no extra round trip per request.
 */
export async function findSessionStanding(em: EntityManager, input: { userId: string; tenantId: string; generation: number; sessionId: string }): Promise<SessionStanding | undefined> {
  const [row] = await em.execute<Array<{ role: MembershipRole; status: TenantStatus; generation_current: boolean; session_live: boolean }>>(
    `select m.role, t.status, m.session_generation = ? as generation_current,
            exists (select 1 from refresh_token r where r.family_id = ? and r.user_id = m.user_id and r.tenant_id = m.tenant_id and r.revoked_at is null) as session_live
       from tenant_membership m join tenant t on t.id = m.tenant_id
      where m.user_id = ? and m.tenant_id = ?`,
    [input.generation, input.sessionId, input.userId, input.tenantId],
  );
  if (!row) return undefined;
  return { role: row.role, tenantStatus: row.status, generationCurrent: row.generation_current, sessionLive: row.session_live };
}
