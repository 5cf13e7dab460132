import { allHandlersFinished, condition, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import { Mutex } from 'async-mutex';
import type { AccountMailActivities } from '../activities/account-mail';
import type { InvitationActivities } from '../activities/invitations';
import {
  AccountRefusal,
  extendInvitationUpdate,
  invitationQuery,
  invitationSettledSignal,
  type ExtendInvitationRequest,
  type InvitationOutcome,
  type InvitationView,
  type InvitationWorkflowInput,
} from '../src/contracts/accounts';
import { DAY_MS } from '../src/domain/duration';
import { MAX_INVITATION_EXTENSION_DAYS } from '../src/domain/invitation';
import { ACCOUNT_DATABASE_STEPS, ACCOUNT_MAIL } from './account-activity-options';
import { failureMessage, permanentFailure } from './failures';

const HOUR_MS = 60 * 60 * 1000;

const steps = proxyActivities<InvitationActivities & AccountMailActivities>(ACCOUNT_DATABASE_STEPS);

const mail = proxyActivities<InvitationActivities>(ACCOUNT_MAIL);

/** One invitation: its expiry, the reminder still to send, and how it ended. */
class PendingInvitation {
  outcome: InvitationOutcome = 'pending';
  expiresAt: number;
  reminderAt: number | null;
  readonly lock = new Mutex();
  private extensions = 0;
  readonly issueKey = `${workflowInfo().firstExecutionRunId}:1`;

  constructor(private readonly input: InvitationWorkflowInput) {
    this.expiresAt = Date.parse(input.expiresAt);
    const reminderAt = workflowInfo().startTime.getTime() + input.reminderAfterHours * HOUR_MS;
    this.reminderAt = reminderAt < this.expiresAt ? reminderAt : null;
  }

  private get step() {
    return { invitationId: this.input.invitationId, workflowId: workflowInfo().workflowId };
  }

  view(): InvitationView {
    return { invitationId: this.input.invitationId, outcome: this.outcome, expiresAt: new Date(this.expiresAt).toISOString(), reminderAt: this.reminderAt === null ? null : new Date(this.reminderAt).toISOString() };
  }

  /** The same link each time (derived from the one issue): a reminder re-sends it, it does not replace it. */
  async send(reminder: boolean): Promise<void> {
    const deliveryKey = `${workflowInfo().workflowId}:${reminder ? 'reminder' : 'invitation'}`;
    try {
      await mail.sendInvitationMail({ ...this.step, issueKey: this.issueKey, reminder, deliveryKey });
    } catch (error) {
      await steps.recordUndeliveredMail({ deliveryKey, kind: reminder ? 'invitation_reminder' : 'invitation', tenantId: this.input.tenantId, workflowId: workflowInfo().workflowId, cause: failureMessage(error) });
    }
  }

  validateExtension = (request: ExtendInvitationRequest) => {
    if (this.outcome !== 'pending') throw permanentFailure(AccountRefusal.InvitationSettled, `the invitation is ${this.outcome}`);
    if (!Number.isInteger(request?.days) || request.days < 1 || request.days > MAX_INVITATION_EXTENSION_DAYS) {
      throw permanentFailure(AccountRefusal.BadExtension, `days must be a whole number from 1 to ${MAX_INVITATION_EXTENSION_DAYS}`);
    }
  };

  /** From its current expiry, or from now if that already passed while the expiry step waited for the floor. */
  extend(request: ExtendInvitationRequest): Promise<InvitationView> {
    return this.lock.runExclusive(async () => {
      this.validateExtension(request);
      this.extensions += 1;
      const expiresAt = Math.max(this.expiresAt, Date.now()) + request.days * DAY_MS;
      const status = await steps.extendInvitation({ ...this.step, expiresAt: new Date(expiresAt).toISOString(), actor: request.actor, reason: request.reason, extensionKey: `${workflowInfo().firstExecutionRunId}:${this.extensions}` });
      if (status !== 'pending') {
        this.outcome = status;
        throw permanentFailure(AccountRefusal.InvitationSettled, `the invitation is ${status}`);
      }
      this.expiresAt = expiresAt;
      return this.view();
    });
  }

  async actOnTimers(): Promise<void> {
    await this.lock.runExclusive(async () => {
      if (this.outcome !== 'pending') return;
      if (Date.now() >= this.expiresAt) {
        const expiry = await steps.expireInvitation({ ...this.step, expiresAt: new Date(this.expiresAt).toISOString() });
        if ('extendedTo' in expiry) this.expiresAt = Date.parse(expiry.extendedTo);
        else this.outcome = expiry.status;
        return;
      }
      if (this.reminderAt !== null && Date.now() >= this.reminderAt) {
        this.reminderAt = null;
        await this.send(true);
      }
    });
  }

  nextTimerAt(): number {
    return Math.min(this.expiresAt, this.reminderAt ?? Infinity);
  }
}

/**
 * One per invitation (`invitation:<invitationId>`): the invitation mail at once, a reminder (the same link) after
 * `reminderAfterHours`, and at its expiry the invitation lapses and frees its seat. Accepting and revoking happen in
 * Postgres through the API, which signals `invitationSettled`; operators extend it with the `extendInvitation` update.
 */
export async function teamInvitation(input: InvitationWorkflowInput): Promise<InvitationView> {
  const pending = new PendingInvitation(input);
  setHandler(invitationQuery, () => pending.view());
  setHandler(invitationSettledSignal, ({ outcome }) => {
    pending.outcome = outcome;
  });
  setHandler(extendInvitationUpdate, (request) => pending.extend(request), { validator: pending.validateExtension });

  const state = await steps.issueInvitationLink({ invitationId: input.invitationId, workflowId: workflowInfo().workflowId, issueKey: pending.issueKey });
  if (state === 'pending') await pending.lock.runExclusive(() => pending.send(false));
  else pending.outcome = state;

  while (pending.outcome === 'pending') {
    await condition(() => pending.outcome !== 'pending', Math.max(pending.nextTimerAt() - Date.now(), 1));
    await pending.actOnTimers();
  }
  await condition(allHandlersFinished);
  return pending.view();
}
