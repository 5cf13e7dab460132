import type { EntityManager } from '@mikro-orm/postgresql';
import type { RefreshTokenRevocationReason } from './entities/refresh-token';
import type { MembershipRole, TenantStatus } from '../domain/tenant-status';

/**
 * Sessions end in the caller's transaction: the membership's session generation moves on (so every access token issued
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

/**
 * The membership a session is issued for: the named tenant's, or without one the user's first. `lock` holds it (share)
 * until the caller's transaction ends, so a session end waits for the refresh token being written and then revokes it.
 */
export async function findSessionMembership(em: EntityManager, input: { userId: string; tenantId?: string; lock?: boolean }): Promise<SessionMembership | undefined> {
  const [row] = await em.execute<MembershipRow[]>(
    `select m.tenant_id, m.role, t.status, m.session_generation from tenant_membership m join tenant t on t.id = m.tenant_id
      where m.user_id = ? ${input.tenantId ? 'and m.tenant_id = ?' : ''} order by m.created_at, m.tenant_id limit 1 ${input.lock ? 'for share of m' : ''}`,
    input.tenantId ? [input.userId, input.tenantId] : [input.userId],
  );
  return row ? membership(row) : undefined;
}

export interface EndedSessions {
  /** Memberships whose generation moved on. */
  memberships: number;
  refreshTokens: number;
}

/**
 * Two statements, in this order, on purpose: the bump waits for any login or refresh holding the membership (they
 * lock it while writing their refresh token), and the revocation, a statement of its own, then sees that token.
 */
async function endSessions(em: EntityManager, scope: { where: string; params: unknown[] }, reason: RefreshTokenRevocationReason, at: Date): Promise<EndedSessions> {
  const bumped = await em.execute<{ affectedRows: number }>(`update tenant_membership set session_generation = session_generation + 1 where ${scope.where}`, scope.params, 'run');
  const revoked = await em.execute<{ affectedRows: number }>(
    `update refresh_token set revoked_at = ?, revoked_reason = ? where ${scope.where} and revoked_at is null`,
    [at, reason, ...scope.params],
    'run',
  );
  return { memberships: bumped.affectedRows, refreshTokens: revoked.affectedRows };
}

/** One person in one tenant: removal, a role change, logout everywhere. */
export const endMemberSessions = (em: EntityManager, input: { tenantId: string; userId: string; reason: RefreshTokenRevocationReason; at: Date }) =>
  endSessions(em, { where: 'tenant_id = ? and user_id = ?', params: [input.tenantId, input.userId] }, input.reason, input.at);

/** One person in every tenant they belong to: a password reset. */
export const endUserSessions = (em: EntityManager, input: { userId: string; reason: RefreshTokenRevocationReason; at: Date }) =>
  endSessions(em, { where: 'user_id = ?', params: [input.userId] }, input.reason, input.at);

/** Everybody in one tenant: suspension, deletion, termination. */
export const endTenantSessions = (em: EntityManager, input: { tenantId: string; reason: RefreshTokenRevocationReason; at: Date }) =>
  endSessions(em, { where: 'tenant_id = ?', params: [input.tenantId] }, input.reason, input.at);
