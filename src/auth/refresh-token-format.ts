import { randomSecret, secretHash } from './secret-hash';

const REFRESH_TOKEN_PATTERN = /^cp_rt_[A-Za-z0-9_-]{43}$/;

/** Opaque, not a JWT: it means something only to our database, so revoking it is deleting its meaning. */
export function mintRefreshToken(): { token: string; hash: string } {
  const token = `cp_rt_${randomSecret()}`;
  return { token, hash: secretHash(token) };
}

export const isRefreshTokenShaped = (token: string) => REFRESH_TOKEN_PATTERN.test(token);
