import { findApiKeyStanding, findSessionStanding } from '../db/credentials';
import type { Orm } from '../db/orm';
import { outranksOrEquals } from '../domain/permissions';
import { looksLikeJwt, type AccessTokens } from './access-token';
import { isApiKeyShaped, looksLikeApiKey } from './api-key-format';
import type { ApiKeyUsage } from './api-key-usage';
import { JwtInvalid } from './jwt';
import type { OperatorRegistry } from './operator-tokens';
import type { Authentication } from './principal';
import { secretHash } from './secret-hash';

const BEARER = /^Bearer ([\x21-\x7e]{1,8192})$/i;

/**
 * Turns an Authorization header into who is calling. The credential's shape picks the one realm that may accept it
 * (API key, session token, operator token), so a credential is never tried against a realm it was not made for.
 */
export function createAuthenticator(deps: { orm: Orm; accessTokens: AccessTokens; operators: OperatorRegistry; apiKeyUsage?: ApiKeyUsage; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());

  async function apiKey(key: string): Promise<Authentication> {
    if (!isApiKeyShaped(key)) return { outcome: 'refused', failure: 'malformed' };
    const row = await findApiKeyStanding(deps.orm.em.fork(), secretHash(key));
    if (!row) return { outcome: 'refused', failure: 'unknown' };
    if (row.revokedAt !== null) return { outcome: 'refused', failure: 'revoked' };
    if (row.expiresAt !== null && new Date(row.expiresAt).getTime() <= now().getTime()) return { outcome: 'refused', failure: 'expired' };
    // Defence in depth beside the revocation at removal or demotion: a key never outlives its creator's standing.
    if (row.creatorUserId !== null && (row.creatorRole === null || !outranksOrEquals(row.creatorRole, row.role))) return { outcome: 'refused', failure: 'creator_gone' };
    void deps.apiKeyUsage?.record(row.id, row.lastUsedAt);
    return { outcome: 'authenticated', principal: { kind: 'api_key', keyId: row.id, tenantId: row.tenantId, role: row.role, tenantStatus: row.tenantStatus } };
  }

  async function sessionToken(token: string): Promise<Authentication> {
    let claims;
    try {
      claims = await deps.accessTokens.verify(token);
    } catch (error) {
      return { outcome: 'refused', failure: error instanceof JwtInvalid && error.code === 'expired' ? 'expired' : 'unknown' };
    }
    const standing = await findSessionStanding(deps.orm.em.fork(), claims);
    if (!standing) return { outcome: 'refused', failure: 'membership_gone' };
    if (!standing.generationCurrent || !standing.sessionLive) return { outcome: 'refused', failure: 'session_ended' };
    return { outcome: 'authenticated', principal: { kind: 'user', userId: claims.userId, tenantId: claims.tenantId, role: standing.role, tenantStatus: standing.tenantStatus } };
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
