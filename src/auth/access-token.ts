import { randomUUID } from 'node:crypto';
import { signJwt, verifyJwt } from './jwt';

/** Who an access token speaks for: a user, in one tenant. The role is read fresh on each request, never trusted from the token. */
export interface AccessClaims {
  userId: string;
  tenantId: string;
  /** The membership's session generation at issue: a token of an older generation is refused (sessions ended). */
  generation: number;
  /** The refresh family (the login) it was issued under: logging that device out ends this token too. */
  sessionId: string;
}

export interface IssuedAccessToken {
  token: string;
  expiresInSeconds: number;
}

const ISSUER = 'control-plane';
const AUDIENCE = 'control-plane-api';
/** Servers in a fleet disagree on the time by a little; a few seconds stops spurious expiries. */
const CLOCK_TOLERANCE_SECONDS = 5;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createAccessTokens(options: { secret: string; ttlSeconds: number; now?: () => Date }) {
  const secret = Buffer.from(options.secret, 'utf8');
  const now = options.now ?? (() => new Date());
  return {
    async issue(claims: AccessClaims): Promise<IssuedAccessToken> {
      const token = await signJwt(
        { sub: claims.userId, tid: claims.tenantId, gen: claims.generation, sid: claims.sessionId, token_use: 'access', jti: randomUUID() },
        { secret, issuer: ISSUER, audience: AUDIENCE, expiresInSeconds: options.ttlSeconds, now: now() },
      );
      return { token, expiresInSeconds: options.ttlSeconds };
    },

    /** The claims of a valid token; throws JwtInvalid for anything else. */
    async verify(token: string): Promise<AccessClaims> {
      const payload = await verifyJwt(token, { secret, issuer: ISSUER, audience: AUDIENCE, now: now(), clockToleranceSeconds: CLOCK_TOLERANCE_SECONDS });
      if (payload.token_use !== 'access' || typeof payload.sub !== 'string' || typeof payload.tid !== 'string') {
        throw new Error('not an access token');
      }
      // A token without its session binding cannot be ended by a logout or a generation bump: not accepted.
      if (!Number.isSafeInteger(payload.gen) || typeof payload.sid !== 'string' || !UUID.test(payload.sid)) throw new Error('access token without a session binding');
      return { userId: payload.sub, tenantId: payload.tid, generation: payload.gen as number, sessionId: payload.sid };
    },
  };
}

export type AccessTokens = ReturnType<typeof createAccessTokens>;

/** A compact JWS: three base64url parts. Tells a session token from an API key or an operator token before any lookup. */
export const looksLikeJwt = (token: string) => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
