import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { emailVerificationQuery, resendVerificationUpdate, type EmailVerificationInput, type EmailVerificationView } from '../../src/contracts/accounts';
import { secretHash } from '../../src/auth/secret-hash';
import type { Orm } from '../../src/db/orm';
import { createVerificationService, type VerificationService } from '../../src/services/accounts/verification-service';
import { emailVerificationWorkflowId } from '../../src/temporal/workflow-ids';
import { linkToken, mailsTo, waitForMails } from '../support/mailpit';
import { createActiveTenant } from '../support/runs';
import { startWorker, testOrm, uniqueTaskQueue } from '../support/stack';
import { createTimeSkippingEnvironment } from '../support/time-skipping';
import { waitFor } from '../support/wait';

// On the Java time-skipping server, with real Postgres and real SMTP (Mailpit): days of a pending signup pass in
// seconds, through the durable timers production uses.
let environment: TestWorkflowEnvironment;
let orm: Orm;
let verification: VerificationService;
const taskQueue = uniqueTaskQueue('verify-ts');
const SETTINGS = { reminderAfterHours: 48, abandonAfterDays: 7 };

beforeAll(async () => {
  environment = await createTimeSkippingEnvironment();
  orm = await testOrm();
  verification = createVerificationService({ client: environment.client, orm, taskQueue, settings: SETTINGS });
});
afterAll(async () => {
  await environment?.teardown();
  await orm?.close(true);
});

async function withWorker<T>(body: (worker: Worker) => Promise<T>): Promise<T> {
  const worker = await startWorker({ connection: environment.nativeConnection, taskQueue, orm });
  return worker.runUntil(body(worker));
}

/** A tenant as the saga leaves it, with its verification workflow started as the saga starts it. */
async function pendingSignup() {
  const tenant = await createActiveTenant(orm);
  const input: EmailVerificationInput = { tenantId: tenant.tenantId, ...SETTINGS };
  const handle = await environment.client.workflow.start('emailVerification', { taskQueue, workflowId: emailVerificationWorkflowId(tenant.tenantId), args: [input] });
  return { ...tenant, handle };
}

const tenantRow = async (tenantId: string) =>
  (await orm.em.fork().execute('select status, email_verification, email_verified_at from tenant where id = ?', [tenantId]))[0] as { status: string; email_verification: string; email_verified_at: Date | null };
const auditActions = async (tenantId: string, prefix: string) =>
  (await orm.em.fork().execute<Array<{ action: string }>>(`select action from audit_event where tenant_id = ? and action like ? order by id`, [tenantId, `${prefix}%`])).map((row) => row.action);

describe('emailVerification on the time-skipping server', () => {
  it('mails a single-use link that verifies the tenant and its owner, stores only its hash, and ends the workflow', async () => {
    const signup = await pendingSignup();
    await withWorker(async () => {
      const [mail] = await waitForMails(signup.ownerEmail, 1);
      expect(mail!.Subject).toContain(`Org ${signup.slug}`);
      expect(mail!.Text).toMatch(/expires on/);
      expect(mail!.HTML).toContain('verify-email?token=');
      const token = linkToken(mail!, 'verify-email');
      expect(await tenantRow(signup.tenantId)).toMatchObject({ email_verification: 'pending' });
      const stored = await orm.em.fork().execute(`select token_hash from link_token where purpose = 'email_verification' and subject_id = ?`, [signup.tenantId]);
      expect(stored).toEqual([{ token_hash: secretHash(token) }]);

      expect(await verification.verify(token)).toMatchObject({ kind: 'verified', tenantId: signup.tenantId });
      expect(await verification.verify(token)).toEqual({ kind: 'invalid' });
      const result: EmailVerificationView = await signup.handle.result();
      expect(result.outcome).toBe('verified');
    });
    expect(await tenantRow(signup.tenantId)).toMatchObject({ status: 'active', email_verification: 'verified' });
    const [owner] = await orm.em.fork().execute('select email_verified_at from app_user where email = ?', [signup.ownerEmail]);
    expect(owner.email_verified_at).not.toBeNull();
    expect(await auditActions(signup.tenantId, 'verification.')).toEqual(['verification.opened', 'verification.link_issued', 'verification.verified']);
  });

  it('withdraws the link after 24 hours, then reminds with a fresh link that works', async () => {
    const signup = await pendingSignup();
    await withWorker(async () => {
      const [first] = await waitForMails(signup.ownerEmail, 1);
      await environment.sleep('25 hours');
      expect(await verification.verify(linkToken(first!, 'verify-email'))).toEqual({ kind: 'invalid' });
      expect(await auditActions(signup.tenantId, 'verification.link_expired')).toEqual(['verification.link_expired']);

      await environment.sleep('24 hours');
      const mails = await waitForMails(signup.ownerEmail, 2);
      expect(mails).toHaveLength(2);
      expect(mails[1]!.Subject).toMatch(/^Reminder: verify your email/);
      expect(await verification.verify(linkToken(mails[1]!, 'verify-email'))).toMatchObject({ kind: 'verified' });
      expect((await signup.handle.result()).outcome).toBe('verified');
    });
  });

  it('resends on request: the new link works and the one before it no longer does', async () => {
    const signup = await pendingSignup();
    await withWorker(async () => {
      const [first] = await waitForMails(signup.ownerEmail, 1);
      const view = await signup.handle.executeUpdate(resendVerificationUpdate, { args: [{ actor: 'user:test' }] });
      expect(view).toMatchObject({ outcome: 'pending', linksIssued: 2 });
      const mails = await waitForMails(signup.ownerEmail, 2);
      const [older, newer] = [linkToken(first!, 'verify-email'), linkToken(mails[1]!, 'verify-email')];
      expect(newer).not.toBe(older);
      expect(await verification.verify(older)).toEqual({ kind: 'invalid' });
      expect(await verification.verify(newer)).toMatchObject({ kind: 'verified' });
      // Verified: a resend is refused by the workflow's validator, with nothing sent.
      await expect(signup.handle.executeUpdate(resendVerificationUpdate, { args: [{ actor: 'user:test' }] })).rejects.toThrow();
      expect(await mailsTo(signup.ownerEmail)).toHaveLength(2);
    });
  });

  it('offboards a signup nobody verified once its days are up, through the lifecycle, audited', async () => {
    const signup = await pendingSignup();
    await withWorker(async () => {
      await waitForMails(signup.ownerEmail, 1);
      const result: EmailVerificationView = await signup.handle.result();
      expect(result.outcome).toBe('abandoned');
      await waitFor(async () => (await tenantRow(signup.tenantId)).status === 'terminated', { timeoutMs: 60_000 });
    });
    const actions = (await orm.em.fork().execute<Array<{ action: string; actor: string }>>(`select action, actor from audit_event where tenant_id = ? order by id`, [signup.tenantId])).map(
      (row) => `${row.action} by ${row.actor}`,
    );
    expect(actions.filter((action) => !action.startsWith('tenant.') && !action.startsWith('billing.'))).toEqual(
      expect.arrayContaining(['verification.signup_abandoned by system:verification', 'lifecycle.terminate_requested by system:verification', 'offboarding.purged by system:verification']),
    );
    // The reminder went out on the way (with a fresh link), and the offboarded owner is gone.
    expect((await mailsTo(signup.ownerEmail)).map((mail) => mail.Subject.startsWith('Reminder'))).toEqual([false, true]);
    expect(await orm.em.fork().execute('select 1 from app_user where email = ?', [signup.ownerEmail])).toEqual([]);
  });

  it('answers where it stands through a query', async () => {
    const signup = await pendingSignup();
    await withWorker(async () => {
      await waitForMails(signup.ownerEmail, 1);
      const view = await signup.handle.query(emailVerificationQuery);
      expect(view).toMatchObject({ outcome: 'pending', linksIssued: 1 });
      expect(Date.parse(view.deadline!) - Date.parse(view.reminderAt!)).toBe((7 * 24 - 48) * 3_600_000);
      await signup.handle.terminate('test finished');
    });
  });
});
