import type { EntityManager } from '@mikro-orm/postgresql';
import type { LinkTokenPurpose } from '../domain/link-token';

export interface LinkTokenIssue {
  purpose: LinkTokenPurpose;
  subjectId: string;
  tenantId: string | null;
  issueKey: string;
  tokenHash: string;
  expiresAt: Date;
}

/**
 * Makes `issue` the subject's one live token: any earlier one (sent or not) stops working in the same statement. An
 * issue retried with the same key changes nothing, even after the token was used.
 */
export async function issueLinkToken(em: EntityManager, issue: LinkTokenIssue): Promise<void> {
  await em.execute(
    `insert into link_token (purpose, subject_id, tenant_id, token_hash, issue_key, expires_at, created_at) values (?, ?, ?, ?, ?, ?, now())
       on conflict (purpose, subject_id) do update
         set token_hash = excluded.token_hash, issue_key = excluded.issue_key, expires_at = excluded.expires_at, used_at = null, created_at = now()
       where link_token.issue_key <> excluded.issue_key`,
    [issue.purpose, issue.subjectId, issue.tenantId, issue.tokenHash, issue.issueKey, issue.expiresAt],
    'run',
  );
}

export type LinkTokenState = { kind: 'live'; expiresAt: Date } | { kind: 'superseded' | 'used' | 'expired' };

/**
 * Before a send: whether the issue is still the subject's live one, and its stored hash that of the token about to be
 * sent (a link secret that changed since the issue, say a worker without a configured secret restarted, is repaired
 * here: the link sent is the one that works).
 */
export async function linkTokenToSend(em: EntityManager, issue: Omit<LinkTokenIssue, 'tenantId' | 'expiresAt'>): Promise<LinkTokenState> {
  const [row] = await em.execute<Array<{ issue_key: string; token_hash: string | null; used_at: Date | null; expires_at: Date }>>(
    'select issue_key, token_hash, used_at, expires_at from link_token where purpose = ? and subject_id = ? for update',
    [issue.purpose, issue.subjectId],
  );
  if (!row || row.issue_key !== issue.issueKey) return { kind: 'superseded' };
  if (row.used_at !== null) return { kind: 'used' };
  if (row.token_hash === null) return { kind: 'expired' };
  if (row.token_hash !== issue.tokenHash) {
    await em.execute('update link_token set token_hash = ? where purpose = ? and subject_id = ?', [issue.tokenHash, issue.purpose, issue.subjectId], 'run');
  }
  return { kind: 'live', expiresAt: new Date(row.expires_at) };
}

export interface LinkTokenHolder {
  subjectId: string;
  tenantId: string | null;
  issueKey: string;
}

/**
 * The subject a presented token names, locked for the caller's transaction, or undefined when the token is unknown,
 * used, withdrawn or past its expiry: one answer for all of them. `consumeLinkToken` then spends it.
 */
export async function findLiveLinkToken(em: EntityManager, purpose: LinkTokenPurpose, tokenHash: string, now: Date): Promise<LinkTokenHolder | undefined> {
  const [row] = await em.execute<Array<{ subject_id: string; tenant_id: string | null; issue_key: string; expires_at: Date }>>(
    'select subject_id, tenant_id, issue_key, expires_at from link_token where purpose = ? and token_hash = ? and used_at is null for update',
    [purpose, tokenHash],
  );
  if (!row || new Date(row.expires_at).getTime() <= now.getTime()) return undefined;
  return { subjectId: row.subject_id, tenantId: row.tenant_id, issueKey: row.issue_key };
}

/** Spends the subject's token: single use. */
export async function consumeLinkToken(em: EntityManager, purpose: LinkTokenPurpose, subjectId: string, now: Date): Promise<void> {
  await em.execute('update link_token set used_at = ?, token_hash = null where purpose = ? and subject_id = ?', [now, purpose, subjectId], 'run');
}

/** Withdraws the subject's live token (expiry, revocation); only the named issue's when a key is given. */
export async function withdrawLinkToken(em: EntityManager, purpose: LinkTokenPurpose, subjectId: string, issueKey?: string): Promise<number> {
  const result = await em.execute<{ affectedRows: number }>(
    `update link_token set token_hash = null where purpose = ? and subject_id = ? and token_hash is not null ${issueKey ? 'and issue_key = ?' : ''}`,
    issueKey ? [purpose, subjectId, issueKey] : [purpose, subjectId],
    'run',
  );
  return result.affectedRows;
}
