import { DAY_MS } from './duration';
import type { EmailVerificationState } from './email-verification';

/** Mail the product sends to people who did not ask for it, and so rations. */
export const RATIONED_MAIL_KINDS = ['invitation'] as const;
export type RationedMailKind = (typeof RATIONED_MAIL_KINDS)[number];

/** Which ration a send would overdraw; the first three are the tenant's own, the last protects strangers from every tenant at once. */
export type MailRationScope = 'tenant_daily' | 'recipient_weekly' | 'recipient_daily';

/** How many invitation mails may go out: per tenant per day, per (tenant, recipient) per week, per recipient per day across tenants. */
export interface MailRationBudgets {
  tenantPerDay: number;
  perRecipientPerWeek: number;
  /**
   * Undefined for a verified tenant: the cap across tenants binds unverified senders only, so throwaway signups can
   * neither mail a stranger past it nor use it up to stop a verified tenant from inviting that person.
   */
  recipientPerDay?: number;
}

/** Operator settings (config) that apply on top of the plan's figure. */
export interface MailRationSettings {
  /** An unverified tenant's daily invitations, whatever its plan: an unproven signup must not be a spam cannon. */
  unverifiedPerDay: number;
  perRecipientPerWeek: number;
  recipientPerDay: number;
}

/** The defaults of the UNVERIFIED_INVITATIONS_PER_DAY, INVITATIONS_PER_RECIPIENT_PER_WEEK and MAIL_PER_RECIPIENT_PER_DAY settings. */
export const DEFAULT_MAIL_RATION_SETTINGS: MailRationSettings = { unverifiedPerDay: 3, perRecipientPerWeek: 3, recipientPerDay: 5 };

export const MAIL_RATION_WINDOWS: Record<MailRationScope, number> = { tenant_daily: DAY_MS, recipient_weekly: 7 * DAY_MS, recipient_daily: DAY_MS };

export function invitationBudgets(input: { verification: EmailVerificationState; planInvitationsPerDay: number; settings: MailRationSettings }): MailRationBudgets {
  const unverified = input.verification === 'pending';
  return {
    tenantPerDay: unverified ? Math.min(input.settings.unverifiedPerDay, input.planInvitationsPerDay) : input.planInvitationsPerDay,
    perRecipientPerWeek: input.settings.perRecipientPerWeek,
    recipientPerDay: unverified ? input.settings.recipientPerDay : undefined,
  };
}

/** One window's count: `limitthNewestAt` is when the newest `limit`-th entry was taken (its leaving the window frees a slot). */
export interface MailRationUsage {
  scope: MailRationScope;
  limit: number;
  used: number;
  limitthNewestAt: Date | null;
}

export type MailRationDecision = { allowed: true } | { allowed: false; scope: MailRationScope; retryAfterSeconds: number };

/** Refused when any window is full; the wait is the longest of the full windows', so a retry after it can pass them all. */
export function mailRationDecision(usage: MailRationUsage[], now: Date): MailRationDecision {
  let refusal: MailRationDecision | undefined;
  for (const window of usage) {
    if (window.used < window.limit) continue;
    const windowMs = MAIL_RATION_WINDOWS[window.scope];
    const freesAt = window.limitthNewestAt ? window.limitthNewestAt.getTime() + windowMs : now.getTime() + windowMs;
    const retryAfterSeconds = Math.max(1, Math.ceil((freesAt - now.getTime()) / 1000));
    if (!refusal || (!refusal.allowed && retryAfterSeconds > refusal.retryAfterSeconds)) refusal = { allowed: false, scope: window.scope, retryAfterSeconds };
  }
  return refusal ?? { allowed: true };
}
