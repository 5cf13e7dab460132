import type { EmailVerificationSettings } from '../../contracts/accounts';
import type { Config } from '../../config';
import type { UnverifiedLimits } from '../../domain/email-verification';

/** When a signup's owner is reminded to verify, and when an unverified signup is offboarded. */
export const verificationSettingsOf = (config: Config): EmailVerificationSettings => ({
  reminderAfterHours: config.VERIFICATION_REMINDER_HOURS,
  abandonAfterDays: config.UNVERIFIED_SIGNUP_DAYS,
});

export const unverifiedLimitsOf = (config: Config): UnverifiedLimits => ({ apiKeys: config.UNVERIFIED_API_KEYS, runsPerDay: config.UNVERIFIED_RUNS_PER_DAY });
