import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { AccountMailActivities } from '../activities/account-mail';
import type { SignupNoticeActivities } from '../activities/signup-notice';
import type { SignupAttemptNoticeInput } from '../src/contracts/provisioning';
import { ACCOUNT_DATABASE_STEPS, ACCOUNT_MAIL } from './account-activity-options';
import { failureMessage } from './failures';

const mail = proxyActivities<SignupNoticeActivities>(ACCOUNT_MAIL);
const steps = proxyActivities<AccountMailActivities>(ACCOUNT_DATABASE_STEPS);

/**
 * Tells an address's owner that a signup named their address (`signup-notice:<the signup's tenant id>`). Started by
 * the signup saga's decoy and abandoned by it, so the saga answers as fast as a real signup and never waits on SMTP.
 */
export async function signupAttemptNotice(input: SignupAttemptNoticeInput): Promise<'sent' | 'already_sent' | 'skipped' | 'undelivered'> {
  const { workflowId } = workflowInfo();
  const deliveryKey = workflowId;
  try {
    return await mail.sendSignupAttemptNotice({ email: input.email, workflowId, deliveryKey });
  } catch (error) {
    await steps.recordUndeliveredMail({ deliveryKey, kind: 'signup_attempt', tenantId: null, workflowId, cause: failureMessage(error) });
    return 'undelivered';
  }
}
