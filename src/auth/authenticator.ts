import type { Orm } from '../db/orm';
import type { MembershipRole, TenantStatus } from '../domain/tenant-status';
import { looksLikeJwt, type AccessTokens } from './access-token';
import { isApiKeyShaped, looksLikeApiKey } from './api-key-format';
import { JwtInvalid } from './jwt';
import type { OperatorRegistry } from './operator-tokens';
import type { Authentication } from './principal';
import { secretHash } from './secret-hash';

const BEARER = /^Bearer ([\x21-\x7e]{1,8192})$/i;

/**
 * Turns an Authorization header into who is calling. The credential's shape picks the one realm that may accept it
 * (API key, session token, operator token), so a credential is never tried against a realm it was not made for.
 */
export function createAuthenticator(deps: { orm: Orm; accessTokens: AccessTokens; operators: OperatorRegistry }) {
  async function apiKey(key: string): Promise<Authentication> {
    if (!isApiKeyShaped(key)) return { outcome: 'refused', failure: 'malformed' };
    const rows = await deps.orm.em.fork().execute<Array<{ id: string; tenant_id: string; role: MembershipRole; revoked_at: Date | null; status: TenantStatus }>>(
      `select k.id, k.tenant_id, k.role, k.revoked_at, t.status
         from api_key k join tenant t on t.id = k.tenant_id where k.key_hash = ?`,
      [secretHash(key)],
    );
    const row = rows[0];
    if (!row) return { outcome: 'refused', failure: 'unknown' };
    if (row.revoked_at !== null) return { outcome: 'refused', failure: 'revoked' };
    return { outcome: 'authenticated', principal: { kind: 'api_key', keyId: row.id, tenantId: row.tenant_id, role: row.role, tenantStatus: row.status } };
  }

  async function sessionToken(token: string): Promise<Authentication> {
    let claims;
    try {
      claims = await deps.accessTokens.verify(token);
    } catch (error) {
      return { outcome: 'refused', failure: error instanceof JwtInvalid && error.code === 'expired' ? 'expired' : 'unknown' };
    }
    const rows = await deps.orm.em.fork().execute<Array<{ role: MembershipRole; status: TenantStatus }>>(
      `select m.role, t.status from tenant_membership m join tenant t on t.id = m.tenant_id where m.user_id = ? and m.tenant_id = ?`,
      [claims.userId, claims.tenantId],
    );
    const row = rows[0];
    if (!row) return { outcome: 'refused', failure: 'membership_gone' };
    return { outcome: 'authenticated', principal: { kind: 'user', userId: claims.userId, tenantId: claims.tenantId, role: row.role, tenantStatus: row.status } };
  }

  return {
    async authenticate(authorization: string | undefined): Promise<Authentication> {
      if (authorization === undefined || authorization.trim() === '') return { outcome: 'anonymous' };
      const match = BEARER.exec(authorization.trim());
      if (!match) return { outcome: 'refused', failure: 'malformed' };
      const token = match[1]!;
      if (looksLikeApiKey(token)) return apiKey(token);
      if (looksLikeJwt(token)) return sessionToken(token);
      const operator = deps.operators.identify(token);
      if (operator) return { outcome: 'authenticated', principal: { kind: 'operator', ...operator } };
      return { outcome: 'refused', failure: 'unknown' };
    },
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;
