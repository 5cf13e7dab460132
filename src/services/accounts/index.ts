import type { Client } from '@temporalio/client';
import type { Config } from '../../config';
import type { Orm } from '../../db/orm';
import { createPasswordResetService } from './password-reset-service';
import { mailRationSettingsOf, verificationSettingsOf } from './settings';
import { createTeamService } from './team-service';
import { createVerificationService } from './verification-service';

/** How often the account routes may be called (per hour), whichever API process a request reaches. */
export interface AccountRateLimits {
  passwordResetsPerAddress: number;
  passwordResetsPerAccount: number;
  verificationResendsPerTenant: number;
  /** Opening links (verify, reset, accept) from one client address: generous (a whole office accepting invitations), still bounded. */
  linkUsesPerAddress: number;
}

/** What the account routes call: verification, password reset, the team (invitations, members, seats). */
export function createAccountServices(deps: { client: Client; orm: Orm; config: Config; now?: () => Date }) {
  const { config } = deps;
  const common = { client: deps.client, orm: deps.orm, taskQueue: config.TEMPORAL_TASK_QUEUE, now: deps.now };
  return {
    verification: createVerificationService({ ...common, settings: verificationSettingsOf(config) }),
    passwordReset: createPasswordResetService(common),
    team: createTeamService({ ...common, expiryDays: config.INVITATION_EXPIRY_DAYS, reminderAfterHours: config.INVITATION_REMINDER_HOURS, mailRation: mailRationSettingsOf(config) }),
    /** Named on the pages the links open. */
    productName: config.PRODUCT_NAME,
    limits: {
      passwordResetsPerAddress: config.PASSWORD_RESET_PER_IP_PER_HOUR,
      passwordResetsPerAccount: config.PASSWORD_RESET_PER_ACCOUNT_PER_HOUR,
      verificationResendsPerTenant: config.VERIFICATION_RESENDS_PER_HOUR,
      linkUsesPerAddress: config.PASSWORD_RESET_PER_IP_PER_HOUR * 5,
    } satisfies AccountRateLimits,
  };
}

export type AccountServices = ReturnType<typeof createAccountServices>;
