import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { EmailVerificationState } from '../domain/email-verification';
import { Limits } from '../domain/limits';
import { MAIL_RATION_WINDOWS, invitationBudgets, mailRationDecision, type MailRationDecision, type MailRationSettings, type MailRationUsage, type RationedMailKind } from '../domain/mail-ration';
import type { Plan, SubscriptionState } from '../domain/tenant-status';

export interface MailRationRequest {
  tenantId: string;
  /** Lower-cased. */
  recipient: string;
  kind: RationedMailKind;
  now: Date;
  settings: MailRationSettings;
}

/**
 * Rows older than the longest window count for nothing; each take clears a few, any tenant's, so a recipient's address
 * stays here about a week (an offboarded tenant's too), not until its tenant invites again.
 */
const PRUNE_BATCH = 50;

/**
 * Checks the ration and takes one entry from it in the caller's transaction, so the send it allows (the invitation's
 * insert) commits or rolls back with it, and concurrent takes by any process queue on the tenant's and the
 * recipient's locks (always in that order). Nothing is written when it refuses.
 */
export async function takeMailRation(em: EntityManager, request: MailRationRequest): Promise<MailRationDecision> {
  await em.execute(`select pg_advisory_xact_lock(hashtextextended(?, 0)), pg_advisory_xact_lock(hashtextextended(?, 0))`, [`mail-ration:tenant:${request.tenantId}`, `mail-ration:recipient:${request.recipient}`]);
  const [standing] = await em.execute<Array<{ email_verification: EmailVerificationState; plan: Plan | null; subscription_state: SubscriptionState | null }>>(
    `select t.email_verification, b.plan, b.subscription_state from tenant t left join billing_account b on b.tenant_id = t.id where t.id = ?`,
    [request.tenantId],
  );
  const limits = standing?.plan && standing.subscription_state ? Limits.derive(standing.plan, standing.subscription_state) : Limits.trialEquivalent();
  const budgets = invitationBudgets({ verification: standing?.email_verification ?? 'pending', planInvitationsPerDay: limits.invitationsPerDay, settings: request.settings });

  const since = (windowMs: number) => new Date(request.now.getTime() - windowMs);
  // Each window: how many entries it holds, and when its limit-th newest was taken (offset limit-1; a zero limit reads the newest).
  const [counted] = await em.execute<Array<{ tenant_daily: string; tenant_daily_at: Date | null; recipient_weekly: string; recipient_weekly_at: Date | null; recipient_daily: string; recipient_daily_at: Date | null }>>(
    `select
       (select count(*) from mail_ration_entry where tenant_id = ? and taken_at > ?) as tenant_daily,
       (select taken_at from mail_ration_entry where tenant_id = ? and taken_at > ? order by taken_at desc offset ? limit 1) as tenant_daily_at,
       (select count(*) from mail_ration_entry where tenant_id = ? and recipient = ? and taken_at > ?) as recipient_weekly,
       (select taken_at from mail_ration_entry where tenant_id = ? and recipient = ? and taken_at > ? order by taken_at desc offset ? limit 1) as recipient_weekly_at,
       (select count(*) from mail_ration_entry where recipient = ? and taken_at > ?) as recipient_daily,
       (select taken_at from mail_ration_entry where recipient = ? and taken_at > ? order by taken_at desc offset ? limit 1) as recipient_daily_at`,
    [
      request.tenantId, since(MAIL_RATION_WINDOWS.tenant_daily),
      request.tenantId, since(MAIL_RATION_WINDOWS.tenant_daily), Math.max(0, budgets.tenantPerDay - 1),
      request.tenantId, request.recipient, since(MAIL_RATION_WINDOWS.recipient_weekly),
      request.tenantId, request.recipient, since(MAIL_RATION_WINDOWS.recipient_weekly), Math.max(0, budgets.perRecipientPerWeek - 1),
      request.recipient, since(MAIL_RATION_WINDOWS.recipient_daily),
      request.recipient, since(MAIL_RATION_WINDOWS.recipient_daily), Math.max(0, (budgets.recipientPerDay ?? 1) - 1),
    ],
  );
  const at = (value: Date | null | undefined) => (value ? new Date(value) : null);
  const usage: MailRationUsage[] = [
    { scope: 'tenant_daily', limit: budgets.tenantPerDay, used: Number(counted?.tenant_daily ?? 0), limitthNewestAt: at(counted?.tenant_daily_at) },
    { scope: 'recipient_weekly', limit: budgets.perRecipientPerWeek, used: Number(counted?.recipient_weekly ?? 0), limitthNewestAt: at(counted?.recipient_weekly_at) },
  ];
  if (budgets.recipientPerDay !== undefined) {
    usage.push({ scope: 'recipient_daily', limit: budgets.recipientPerDay, used: Number(counted?.recipient_daily ?? 0), limitthNewestAt: at(counted?.recipient_daily_at) });
  }
  const decision = mailRationDecision(usage, request.now);
  if (!decision.allowed) return decision;

  await em.execute(`insert into mail_ration_entry (id, tenant_id, recipient, kind, taken_at) values (?, ?, ?, ?, ?)`, [randomUUID(), request.tenantId, request.recipient, request.kind, request.now], 'run');
  await em.execute(
    `delete from mail_ration_entry where id in (select id from mail_ration_entry where taken_at < ? limit ${PRUNE_BATCH})`,
    [since(Math.max(...Object.values(MAIL_RATION_WINDOWS)))],
    'run',
  );
  return decision;
}

/** Whether the tenant may send mail beyond what the ration let through (a reminder): not while its owner is unverified. */
export async function mayMailUnasked(em: EntityManager, tenantId: string): Promise<boolean> {
  const [row] = await em.execute<Array<{ email_verification: EmailVerificationState }>>('select email_verification from tenant where id = ?', [tenantId]);
  return row !== undefined && row.email_verification !== 'pending';
}
