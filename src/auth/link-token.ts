import { createHmac } from 'node:crypto';
import type { LinkTokenPurpose } from '../domain/link-token';
import { secretHash } from './secret-hash';

/**
 * The token behind an emailed link, derived rather than random: HMAC-SHA256 of (purpose, subject, issue key) under the
 * worker's link secret. A send retried after a crash (even on another worker) derives the same link, so a person never
 * holds two live links of one issue; only its SHA-256 is stored, like a refresh token's.
 */
export function deriveLinkToken(secret: string, purpose: LinkTokenPurpose, subjectId: string, issueKey: string): { token: string; hash: string } {
  const token = `cp_lt_${createHmac('sha256', secret).update(`${purpose}\n${subjectId}\n${issueKey}`).digest('base64url')}`;
  return { token, hash: secretHash(token) };
}

/** The link secret from the access-token secret, so one setting serves both without one key doing two jobs. */
export const linkSecretFrom = (authTokenSecret: string) => createHmac('sha256', authTokenSecret).update('control-plane link tokens').digest('base64url');
