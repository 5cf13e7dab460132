import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * The address a live invitation link was sent to, or undefined for a token that is unknown, used, withdrawn, expired,
 * or whose invitation is no longer pending: read before the password is checked, so the throttle knows the account.
 */
export async function liveInvitationEmail(em: EntityManager, tokenHash: string, now: Date): Promise<string | undefined> {
  const [row] = await em.execute<Array<{ email: string }>>(
    `select i.email from link_token l join invitation i on i.id = l.subject_id
      where l.purpose = 'invitation' and l.token_hash = ? and l.used_at is null and l.expires_at > ? and i.status = 'pending' and i.expires_at > ?`,
    [tokenHash, now, now],
  );
  return row?.email;
}
