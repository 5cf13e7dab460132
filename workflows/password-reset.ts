import { allHandlersFinished, condition, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { AccountMailActivities } from '../activities/account-mail';
import type { PasswordResetActivities } from '../activities/password-reset';
import { passwordResetCompletedSignal, passwordResetRequestedSignal, type PasswordResetInput } from '../src/contracts/accounts';
import { PASSWORD_RESET_TOKEN_TTL_MINUTES } from '../src/domain/link-token';
import { ACCOUNT_DATABASE_STEPS } from './account-activity-options';
import { failureMessage } from './failures';

const LINK_TTL_MS = PASSWORD_RESET_TOKEN_TTL_MINUTES * 60 * 1000;

const steps = proxyActivities<PasswordResetActivities & AccountMailActivities>(ACCOUNT_DATABASE_STEPS);

// A reset link is useful for 30 minutes: a few retries within them, then the mail goes on the operators' list.
const mail = proxyActivities<PasswordResetActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 6 },
});

/**
 * One per address asked about (`password-reset:<hash of the address>`), known or not. Each request (a signal, the
 * first one delivered with the start) issues a new link, which replaces the last, and mails it when the address has
 * an account. The live link is withdrawn 30 minutes after it was issued; with no request since, the workflow ends. The
 * API spends the token in Postgres and signals completion.
 */
export async function passwordReset(input: PasswordResetInput): Promise<{ linksIssued: number; completed: boolean }> {
  let requests = 0;
  let issued = 0;
  let completed = false;
  setHandler(passwordResetRequestedSignal, () => {
    requests += 1;
  });
  setHandler(passwordResetCompletedSignal, () => {
    completed = true;
  });

  let live: { userId: string; issueKey: string; expiresAt: number } | null = null;
  while (!completed) {
    if (issued < requests) {
      issued = requests;
      const issueKey = `${workflowInfo().firstExecutionRunId}:${issued}`;
      const expiresAt = Date.now() + LINK_TTL_MS;
      const account = await steps.issuePasswordResetLink({ workflowId: workflowInfo().workflowId, issueKey, email: input.email, expiresAt: new Date(expiresAt).toISOString() });
      if (account === null) continue;
      live = { userId: account.userId, issueKey, expiresAt };
      const deliveryKey = `${workflowInfo().workflowId}:${issueKey}`;
      try {
        await mail.sendPasswordResetMail({ workflowId: workflowInfo().workflowId, issueKey, userId: account.userId, deliveryKey });
      } catch (error) {
        await steps.recordUndeliveredMail({ deliveryKey, kind: 'password_reset', tenantId: null, workflowId: workflowInfo().workflowId, cause: failureMessage(error) });
      }
      continue;
    }
    const until = live?.expiresAt ?? Date.now() + LINK_TTL_MS;
    const woke = await condition(() => completed || issued < requests, Math.max(until - Date.now(), 1));
    if (woke) continue;
    if (live) await steps.expirePasswordResetLink({ workflowId: workflowInfo().workflowId, issueKey: live.issueKey, userId: live.userId });
    live = null;
    // A request that came in while the link was being withdrawn is served, not dropped.
    if (issued === requests) break;
  }
  await condition(allHandlersFinished);
  return { linksIssued: issued, completed };
}
