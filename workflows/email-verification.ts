import { allHandlersFinished, condition, ParentClosePolicy, patched, proxyActivities, proxyLocalActivities, setHandler, startChild, workflowInfo } from '@temporalio/workflow';
import { Mutex } from 'async-mutex';
import type { AccountMailActivities } from '../activities/account-mail';
import type { EmailVerificationActivities } from '../activities/email-verification';
import {
  AccountRefusal,
  emailVerificationQuery,
  emailVerifiedSignal,
  resendVerificationUpdate,
  type EmailVerificationInput,
  type EmailVerificationOutcome,
  type EmailVerificationView,
  type ResendRequest,
} from '../src/contracts/accounts';
import { VERIFICATION_TOKEN_TTL_HOURS } from '../src/domain/link-token';
import { TENANT_ID } from '../src/temporal/search-attributes';
import { emailVerificationWorkflowId } from '../src/temporal/workflow-ids';
import { ACCOUNT_DATABASE_STEPS, ACCOUNT_LOCAL_DATABASE_STEPS, ACCOUNT_MAIL } from './account-activity-options';
import { failureMessage, permanentFailure } from './failures';

const HOUR_MS = 60 * 60 * 1000;

type VerificationSteps = EmailVerificationActivities & AccountMailActivities;
const steps = proxyActivities<VerificationSteps>(ACCOUNT_DATABASE_STEPS);
const localSteps = proxyLocalActivities<VerificationSteps>(ACCOUNT_LOCAL_DATABASE_STEPS);

/**
 * Verifications started before it run every database step as an ordinary activity. With it the short ones (open,
 * issue a link, record an undelivered mail, expire a link) are local: a signup's verification opens and issues its
 * first link in one workflow task. The mail itself and the offboarding stay ordinary activities.
 */
const LOCAL_DATABASE_STEPS = 'verification-local-database-steps';

const mail = proxyActivities<EmailVerificationActivities>(ACCOUNT_MAIL);

const iso = (at: number | null) => (at === null ? null : new Date(at).toISOString());

/** One pending signup's verification: its live link, the reminder still to send, the deadline. */
class PendingVerification {
  outcome: EmailVerificationOutcome = 'pending';
  linksIssued = 0;
  linkExpiresAt: number | null = null;
  reminderAt: number | null = null;
  deadline: number | null = null;
  /** Issues and sends run one at a time: a resend never interleaves with the reminder. */
  readonly lock = new Mutex();
  private liveIssueKey: string | null = null;

  constructor(
    private readonly input: EmailVerificationInput,
    /** Where the short database steps run: local activities on the patched path. */
    private readonly database: typeof steps,
  ) {}

  private get step() {
    return { tenantId: this.input.tenantId, workflowId: workflowInfo().workflowId };
  }

  view(): EmailVerificationView {
    return { tenantId: this.input.tenantId, outcome: this.outcome, linksIssued: this.linksIssued, linkExpiresAt: iso(this.linkExpiresAt), reminderAt: iso(this.reminderAt), deadline: iso(this.deadline) };
  }

  /** A new link (the old one stops working), then its mail. Keys are per run and per issue: a retry finds its own. */
  async issueAndSend(reminder: boolean, actor = 'system:verification', reason?: string): Promise<void> {
    this.linksIssued += 1;
    const issueKey = `${workflowInfo().firstExecutionRunId}:${this.linksIssued}`;
    const expiresAt = Date.now() + VERIFICATION_TOKEN_TTL_HOURS * HOUR_MS;
    const state = await this.database.issueVerificationLink({ ...this.step, issueKey, actor, expiresAt: new Date(expiresAt).toISOString(), ...(reason ? { reason } : {}) });
    if (state !== 'pending') {
      this.outcome = 'verified';
      return;
    }
    this.liveIssueKey = issueKey;
    this.linkExpiresAt = expiresAt;
    const deliveryKey = `${workflowInfo().workflowId}:${issueKey}`;
    try {
      await mail.sendVerificationMail({ ...this.step, issueKey, reminder, deliveryKey });
    } catch (error) {
      await this.database.recordUndeliveredMail({ deliveryKey, kind: reminder ? 'verification_reminder' : 'email_verification', tenantId: this.input.tenantId, workflowId: workflowInfo().workflowId, cause: failureMessage(error) });
    }
  }

  validateResend = () => {
    if (this.outcome === 'verified') throw permanentFailure(AccountRefusal.AlreadyVerified, 'the email is already verified');
    if (this.outcome === 'abandoned') throw permanentFailure(AccountRefusal.SignupAbandoned, 'the signup was not verified in time and is being removed');
  };

  resend(request: ResendRequest): Promise<EmailVerificationView> {
    return this.lock.runExclusive(async () => {
      this.validateResend();
      await this.issueAndSend(false, request.actor, request.reason);
      return this.view();
    });
  }

  /** Whatever is due now: the deadline (offboard), the reminder (a fresh link), or the end of the live link. */
  async actOnTimers(): Promise<void> {
    await this.lock.runExclusive(async () => {
      const now = Date.now();
      if (this.outcome !== 'pending') return;
      if (this.deadline !== null && now >= this.deadline) {
        const result = await steps.offboardUnverifiedSignup(this.step);
        this.outcome = result === 'verified' ? 'verified' : 'abandoned';
        return;
      }
      if (this.reminderAt !== null && now >= this.reminderAt) {
        this.reminderAt = null;
        await this.issueAndSend(true);
        return;
      }
      if (this.linkExpiresAt !== null && now >= this.linkExpiresAt && this.liveIssueKey !== null) {
        await this.database.expireVerificationLink({ ...this.step, issueKey: this.liveIssueKey });
        this.linkExpiresAt = null;
      }
    });
  }

  nextTimerAt(): number {
    return Math.min(...[this.deadline, this.reminderAt, this.linkExpiresAt].filter((at): at is number => at !== null));
  }
}

/**
 * One per signup awaiting verification (`verify-email:<tenantId>`): the first link at once, a reminder with a fresh
 * link after `reminderAfterHours`, each link withdrawn after 24 hours, resends on request (each replaces the live
 * link), and at the deadline the unverified tenant is offboarded through its lifecycle. The API verifies in Postgres
 * and signals `emailVerified`; every step also reads Postgres, so a lost signal changes nothing but timing.
 * Its history stays short: resends are rate-limited per tenant and the workflow ends by the deadline.
 */
export async function emailVerification(input: EmailVerificationInput): Promise<EmailVerificationView> {
  const database = patched(LOCAL_DATABASE_STEPS) ? localSteps : steps;
  const pending = new PendingVerification(input, database);
  setHandler(emailVerificationQuery, () => pending.view());
  setHandler(emailVerifiedSignal, () => {
    pending.outcome = 'verified';
  });
  setHandler(resendVerificationUpdate, (request) => pending.resend(request), { validator: (_request) => pending.validateResend() });

  const opened = await database.openEmailVerification({
    tenantId: input.tenantId,
    workflowId: workflowInfo().workflowId,
    abandonAfterDays: input.abandonAfterDays,
    startedAt: workflowInfo().startTime.toISOString(),
  });
  if (opened.state === 'pending') {
    pending.deadline = Date.parse(opened.deadline!);
    const reminderAt = workflowInfo().startTime.getTime() + input.reminderAfterHours * HOUR_MS;
    pending.reminderAt = reminderAt < pending.deadline ? reminderAt : null;
    await pending.lock.runExclusive(() => pending.issueAndSend(false));
  } else {
    pending.outcome = 'verified';
  }

  while (pending.outcome === 'pending') {
    await condition(() => pending.outcome !== 'pending', Math.max(pending.nextTimerAt() - Date.now(), 1));
    await pending.actOnTimers();
  }
  await condition(allHandlersFinished);
  return pending.view();
}

/** Starts a tenant's verification from the provisioning saga: abandoned on parent close, it outlives the saga by days. */
export async function startEmailVerificationChild(input: EmailVerificationInput): Promise<void> {
  await startChild(emailVerification, {
    workflowId: emailVerificationWorkflowId(input.tenantId),
    args: [input],
    parentClosePolicy: ParentClosePolicy.ABANDON,
    typedSearchAttributes: [{ key: TENANT_ID, value: input.tenantId }],
    staticSummary: `Email verification of tenant ${input.tenantId}`,
  });
}
