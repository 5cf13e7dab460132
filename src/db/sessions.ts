import type { EntityManager } from '@mikro-orm/postgresql';
import type { RefreshTokenRevocationReason } from './entities/refresh-token';
import type { MembershipRole, TenantStatus } from '../domain/tenant-status';

/**
 * Sessions end in one statement each: the membership's session generation moves on (so every access token issued
 * before is refused on its next request) and the refresh tokens of the same scope are revoked (so none can mint a new
 * one). The generation counts ends, not logins: it is never reset.
 */

export interface SessionMembership {
  tenantId: string;
  role: MembershipRole;
  tenantStatus: TenantStatus;
  generation: number;
}

type MembershipRow = { tenant_id: string; role: MembershipRole; status: TenantStatus; session_generation: number };
const membership = (row: MembershipRow): SessionMembership => ({ tenantId: row.tenant_id, role: row.role, tenantStatus: row.status, generation: row.session_generation });

/** The membership a session is issued for: the named tenant's, or without one the user's first. */
export async function findSessionMembership(em: EntityManager, input: { userId: string; tenantId?: string }): Promise<SessionMembership | undefined> {
  const [row] = await em.execute<MembershipRow[]>(
    `select m.tenant_id, m.role, t.status, m.session_generation from tenant_membership m join tenant t on t.id = m.tenant_id
      where m.user_id = ? ${input.tenantId ? 'and m.tenant_id = ?' : ''} order by m.created_at, m.tenant_id limit 1`,
    input.tenantId ? [input.userId, input.tenantId] : [input.userId],
  );
  return row ? membership(row) : undefined;
}

export interface EndedSessions {
  /** Memberships whose generation moved on. */
  memberships: number;
  refreshTokens: number;
}

async function endSessions(em: EntityManager, scope: { where: string; params: unknown[] }, revoke: { where: string; params: unknown[] }, reason: RefreshTokenRevocationReason, at: Date): Promise<EndedSessions> {
  const [row] = await em.execute<Array<{ memberships: string; refresh_tokens: string }>>(
    `with bumped as (update tenant_membership set session_generation = session_generation + 1 where ${scope.where} returning 1),
          revoked as (update refresh_token set revoked_at = ?, revoked_reason = ? where ${revoke.where} and revoked_at is null returning 1)
     select (select count(*) from bumped) as memberships, (select count(*) from revoked) as refresh_tokens`,
    [...scope.params, at, reason, ...revoke.params],
  );
  return { memberships: Number(row?.memberships ?? 0), refreshTokens: Number(row?.refresh_tokens ?? 0) };
}

/** One person in one tenant: removal, a role change, logout everywhere. */
export const endMemberSessions = (em: EntityManager, input: { tenantId: string; userId: string; reason: RefreshTokenRevocationReason; at: Date }) =>
  endSessions(em, { where: 'tenant_id = ? and user_id = ?', params: [input.tenantId, input.userId] }, { where: 'tenant_id = ? and user_id = ?', params: [input.tenantId, input.userId] }, input.reason, input.at);

/** One person in every tenant they belong to: a password reset. */
export const endUserSessions = (em: EntityManager, input: { userId: string; reason: RefreshTokenRevocationReason; at: Date }) =>
  endSessions(em, { where: 'user_id = ?', params: [input.userId] }, { where: 'user_id = ?', params: [input.userId] }, input.reason, input.at);

/** Everybody in one tenant: suspension, deletion, termination. */
export const endTenantSessions = (em: EntityManager, input: { tenantId: string; reason: RefreshTokenRevocationReason; at: Date }) =>
  endSessions(em, { where: 'tenant_id = ?', params: [input.tenantId] }, { where: 'tenant_id = ?', params: [input.tenantId] }, input.reason, input.at);
