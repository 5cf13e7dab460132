import { randomBytes, randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AccessClaims, AccessTokens } from '../auth/access-token';
import { hashPassword, verifyPassword } from '../auth/password-hash';
import { isRefreshTokenShaped, mintRefreshToken } from '../auth/refresh-token-format';
import { secretHash } from '../auth/secret-hash';
import { recordAudit } from '../db/audit';
import type { RefreshTokenRevocationReason } from '../db/entities/refresh-token';
import type { Orm } from '../db/orm';
import { endMemberSessions, findSessionMembership, type EndedSessions } from '../db/sessions';
import type { GateDecision } from '../domain/gate-decision';
import { lifecycleDecision, tenantRequestDecision } from '../gates/lifecycle-gate';
import type { GateRecorder } from '../gates/gate-recorder';
import { DAY_MS } from '../domain/duration';

export interface IssuedSession {
  userId: string;
  tenantId: string;
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  refreshExpiresIn: number;
}

export type SessionOutcome =
  | { kind: 'issued'; session: IssuedSession }
  /** Wrong email, wrong password, no such membership, unusable refresh token: one answer for all of them. */
  | { kind: 'invalid' }
  | { kind: 'refused'; decision: GateDecision };

export interface AuthServiceDependencies {
  orm: Orm;
  accessTokens: AccessTokens;
  gates: GateRecorder;
  refreshTokenTtlDays: number;
  now?: () => Date;
}


let dummyPasswordHash: Promise<string> | undefined;
/** A real scrypt hash of nothing anyone knows: a missing user costs the same verification as a present one. */
const dummyHash = () => (dummyPasswordHash ??= hashPassword(randomBytes(32).toString('base64url')));

export function createAuthService(deps: AuthServiceDependencies) {
  const now = deps.now ?? (() => new Date());
  const refreshTtlMs = deps.refreshTokenTtlDays * DAY_MS;

  async function openRefreshToken(em: EntityManager, input: { userId: string; tenantId: string; familyId: string }) {
    const minted = mintRefreshToken();
    const id = randomUUID();
    const issuedAt = now();
    await em.execute(
      `insert into refresh_token (id, family_id, user_id, tenant_id, token_hash, expires_at, created_at) values (?, ?, ?, ?, ?, ?, ?)`,
      [id, input.familyId, input.userId, input.tenantId, minted.hash, new Date(issuedAt.getTime() + refreshTtlMs), issuedAt],
    );
    return { id, token: minted.token };
  }

  async function session(claims: AccessClaims, refreshToken: string): Promise<IssuedSession> {
    const access = await deps.accessTokens.issue(claims);
    return { userId: claims.userId, tenantId: claims.tenantId, accessToken: access.token, expiresIn: access.expiresInSeconds, refreshToken, refreshExpiresIn: Math.floor(refreshTtlMs / 1000) };
  }

  async function revokeFamily(em: EntityManager, familyId: string, reason: RefreshTokenRevocationReason): Promise<number> {
    const result = await em.execute<{ affectedRows: number }>(
      `update refresh_token set revoked_at = ?, revoked_reason = ? where family_id = ? and revoked_at is null`,
      [now(), reason, familyId],
      'run',
    );
    return result.affectedRows;
  }

  return {
    async login(input: { email: string; password: string; tenantId?: string }): Promise<SessionOutcome> {
      const em = deps.orm.em.fork();
      const users = await em.execute<Array<{ id: string; password_hash: string }>>('select id, password_hash from app_user where email = ?', [input.email.toLowerCase()]);
      const user = users[0];
      if (!user) {
        await verifyPassword(input.password, await dummyHash());
        return { kind: 'invalid' };
      }
      if (!(await verifyPassword(input.password, user.password_hash))) return { kind: 'invalid' };

      const familyId = randomUUID();
      return em.transactional(async (tx): Promise<SessionOutcome> => {
        // Without a tenant named, the user's first membership; a tenant they do not belong to is just invalid. Locked
        // while the login is written: a session end racing it either sees its refresh token or is seen by it.
        const membership = await findSessionMembership(tx, { userId: user.id, tenantId: input.tenantId, lock: true });
        if (!membership) return { kind: 'invalid' };

        const decision = deps.gates.record(tenantRequestDecision({ status: membership.tenantStatus, role: membership.role, access: 'read' }), { boundary: 'login', tenantId: membership.tenantId });
        if (!decision.allowed) return { kind: 'refused', decision };

        const opened = await openRefreshToken(tx, { userId: user.id, tenantId: membership.tenantId, familyId });
        await recordAudit(tx, {
          actor: `user:${user.id}`,
          action: 'auth.login',
          entityType: 'user',
          entityId: user.id,
          tenantId: membership.tenantId,
          idempotencyKey: `refresh_token:${opened.id}:login`,
        });
        return { kind: 'issued', session: await session({ userId: user.id, tenantId: membership.tenantId, generation: membership.generation, sessionId: familyId }, opened.token) };
      });
    },

    /**
     * Exchanges a refresh token for a new pair; the old one is spent. A spent token presented again means it leaked
     * (or a client raced itself): the whole login is revoked, and both parties must sign in again.
     */
    async refresh(refreshToken: string): Promise<SessionOutcome> {
      if (!isRefreshTokenShaped(refreshToken)) return { kind: 'invalid' };
      const hash = secretHash(refreshToken);
      const outcome = await deps.orm.em.fork().transactional(async (em): Promise<SessionOutcome | { kind: 'rotate'; claims: AccessClaims; token: string }> => {
        const rows = await em.execute<Array<{ id: string; family_id: string; user_id: string; tenant_id: string; expires_at: Date; revoked_at: Date | null; revoked_reason: RefreshTokenRevocationReason | null }>>(
          `select id, family_id, user_id, tenant_id, expires_at, revoked_at, revoked_reason from refresh_token where token_hash = ? for update`,
          [hash],
        );
        const row = rows[0];
        if (!row) return { kind: 'invalid' };
        if (row.revoked_at !== null) {
          if (row.revoked_reason === 'rotated' && (await revokeFamily(em, row.family_id, 'reuse_detected')) > 0) {
            await recordAudit(em, {
              actor: 'system:auth',
              action: 'auth.refresh_reuse_detected',
              entityType: 'user',
              entityId: row.user_id,
              tenantId: row.tenant_id,
              reason: 'a rotated refresh token was presented again; every token of the login was revoked',
              idempotencyKey: `refresh_family:${row.family_id}:reuse_detected`,
            });
          }
          return { kind: 'invalid' };
        }
        if (new Date(row.expires_at).getTime() <= now().getTime()) return { kind: 'invalid' };

        const membership = await findSessionMembership(em, { userId: row.user_id, tenantId: row.tenant_id, lock: true });
        if (!membership) {
          await revokeFamily(em, row.family_id, 'membership_gone');
          return { kind: 'invalid' };
        }
        // The gate boundary: refused here, nothing is spent. (Suspending through the lifecycle revokes the tokens
        // anyway; a status set any other way leaves them usable once the tenant is active again.)
        const decision = deps.gates.record(lifecycleDecision(membership.tenantStatus, 'token_refresh'), { boundary: 'token_refresh', tenantId: row.tenant_id });
        if (!decision.allowed) return { kind: 'refused', decision };

        const next = await openRefreshToken(em, { userId: row.user_id, tenantId: row.tenant_id, familyId: row.family_id });
        await em.execute(`update refresh_token set revoked_at = ?, revoked_reason = 'rotated', replaced_by = ? where id = ?`, [now(), next.id, row.id]);
        return { kind: 'rotate', claims: { userId: row.user_id, tenantId: row.tenant_id, generation: membership.generation, sessionId: row.family_id }, token: next.token };
      });
      if (outcome.kind !== 'rotate') return outcome;
      return { kind: 'issued', session: await session(outcome.claims, outcome.token) };
    },

    /** Ends the login the token belongs to. Says nothing about whether the token was known: there is no oracle here. */
    async logout(refreshToken: string): Promise<void> {
      if (!isRefreshTokenShaped(refreshToken)) return;
      await deps.orm.em.fork().transactional(async (em) => {
        const rows = await em.execute<Array<{ family_id: string; user_id: string; tenant_id: string }>>('select family_id, user_id, tenant_id from refresh_token where token_hash = ?', [secretHash(refreshToken)]);
        const row = rows[0];
        if (!row || (await revokeFamily(em, row.family_id, 'logout')) === 0) return;
        await recordAudit(em, {
          actor: `user:${row.user_id}`,
          action: 'auth.logout',
          entityType: 'user',
          entityId: row.user_id,
          tenantId: row.tenant_id,
          idempotencyKey: `refresh_family:${row.family_id}:logout`,
        });
      });
    },

    /** Ends every session of the caller in this tenant, this one included: every device signs in again. */
    async logoutEverywhere(input: { userId: string; tenantId: string }): Promise<EndedSessions> {
      return deps.orm.em.fork().transactional(async (em) => {
        const at = now();
        const ended = await endMemberSessions(em, { ...input, reason: 'logout_everywhere', at });
        await recordAudit(em, {
          actor: `user:${input.userId}`,
          action: 'auth.logout_everywhere',
          entityType: 'user',
          entityId: input.userId,
          tenantId: input.tenantId,
          reason: 'the person ended every session of theirs in this tenant',
          idempotencyKey: `user:${input.userId}:${input.tenantId}:logout_everywhere:${at.toISOString()}:${randomUUID()}`,
          details: { refreshTokensRevoked: ended.refreshTokens },
        });
        return ended;
      });
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
