import type { EmailVerificationSettings } from '../../contracts/accounts';
import type { Config } from '../../config';
import type { UnverifiedLimits } from '../../domain/email-verification';
import type { MailRationSettings } from '../../domain/mail-ration';

/** When a signup's owner is reminded to verify, and when an unverified signup is offboarded. */
export const verificationSettingsOf = (config: Config): EmailVerificationSettings => ({
  reminderAfterHours: config.VERIFICATION_REMINDER_HOURS,
  abandonAfterDays: config.UNVERIFIED_SIGNUP_DAYS,
});

export const unverifiedLimitsOf = (config: Config): UnverifiedLimits => ({ apiKeys: config.UNVERIFIED_API_KEYS, runsPerDay: config.UNVERIFIED_RUNS_PER_DAY });

/** The invitation mail ration's operator settings; the verified tenant's daily figure comes from its plan (Limits). */
export const mailRationSettingsOf = (config: Config): MailRationSettings => ({
  unverifiedPerDay: config.UNVERIFIED_INVITATIONS_PER_DAY,
  perRecipientPerWeek: config.INVITATIONS_PER_RECIPIENT_PER_WEEK,
  recipientPerDay: config.MAIL_PER_RECIPIENT_PER_DAY,
});
