/**
 * Where a tenant stands on its signup's email: `not_required` for tenants made before verification existed (and the
 * system tenant), `pending` from the verification workflow's start until the owner opens the link, then `verified`.
 */
export const EMAIL_VERIFICATION_STATES = ['not_required', 'pending', 'verified'] as const;
export type EmailVerificationState = (typeof EMAIL_VERIFICATION_STATES)[number];

export const DEFAULT_VERIFICATION_REMINDER_HOURS = 48;
export const DEFAULT_UNVERIFIED_SIGNUP_DAYS = 7;

/** What an unverified tenant may do until its owner verifies; an operator sets both (UNVERIFIED_*). */
export interface UnverifiedLimits {
  apiKeys: number;
  runsPerDay: number;
}
