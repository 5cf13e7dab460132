import nodemailer from 'nodemailer';
import type { AccountMailDependencies } from '../../activities/account-mail';
import { deriveLinkToken } from '../../src/auth/link-token';
import { fromTransport } from '../../src/mail/mailer';
import { createPasswordResetService, passwordResetWorkflowIdFor } from '../../src/services/accounts/password-reset-service';
import { createTeamService } from '../../src/services/accounts/team-service';
import { createVerificationService } from '../../src/services/accounts/verification-service';
import { emailVerificationWorkflowId, invitationWorkflowId } from '../../src/temporal/workflow-ids';
import { createActiveTenant } from '../../tools/fixtures/runs';
import type { HistoryFamily } from './recorder';
import { DEFAULT_MAIL_RATION_SETTINGS } from '../../src/domain/mail-ration';

/** Mail of the recording worker: composed in full, delivered nowhere, links derived from a secret the scenarios know. */
export const RECORDING_MAIL: AccountMailDependencies = {
  mailer: fromTransport(nodemailer.createTransport({ jsonTransport: true }), 'Recorder <recorder@example.com>'),
  branding: { productName: 'Control Plane', appBaseUrl: 'http://127.0.0.1:3000' },
  linkSecret: 'recording-link-secret-recording-link-secret',
};

const SETTINGS = { reminderAfterHours: 48, abandonAfterDays: 7 };
const PASSWORD = 'Recorded-Password-42';

/**
 * The account workflows: a verification resent and then verified, a password reset completed, an invitation accepted
 * and one revoked. Each is driven through the services the API calls, with the link a mail would have carried.
 */
export const recordAccountHistories: HistoryFamily = async (rig, recorder) => {
  const { client, orm, taskQueue } = rig;
  const services = { client, orm, taskQueue };

  // Older generations stay on disk: `verification-` before the database steps became local activities.
  const verificationHistory = 'verification-local-steps-resent-verified';
  if (recorder.wants(verificationHistory)) {
    const tenant = await createActiveTenant(orm, { slug: `replay-verify-${Date.now().toString(36)}` });
    const handle = await client.workflow.start('emailVerification', { taskQueue, workflowId: emailVerificationWorkflowId(tenant.tenantId), args: [{ tenantId: tenant.tenantId, ...SETTINGS }] });
    const verification = createVerificationService({ ...services, settings: SETTINGS });
    await waitForRow(async () => (await orm.em.fork().execute(`select 1 from mail_delivery where workflow_id = ? and status = 'sent'`, [handle.workflowId])).length > 0);
    const view = await verification.resend(tenant.tenantId, 'user:recorder');
    if (view.kind !== 'sent') throw new Error(`resend answered ${view.kind}`);
    const token = deriveLinkToken(RECORDING_MAIL.linkSecret, 'email_verification', tenant.tenantId, `${handle.firstExecutionRunId}:2`).token;
    if ((await verification.verify(token)).kind !== 'verified') throw new Error('the derived verification link did not verify');
    await handle.result();
    await recorder.save(verificationHistory, await handle.fetchHistory());
  }

  if (recorder.wants('password-reset-completed')) {
    const tenant = await createActiveTenant(orm, { slug: `replay-reset-${Date.now().toString(36)}` });
    const resets = createPasswordResetService(services);
    await resets.request(tenant.ownerEmail);
    const issuedLink = () =>
      orm.em.fork().execute<Array<{ subject_id: string; issue_key: string }>>(
        `select l.subject_id, l.issue_key from link_token l join app_user u on u.id = l.subject_id where l.purpose = 'password_reset' and u.email = ?`,
        [tenant.ownerEmail],
      );
    await waitForRow(async () => (await issuedLink()).length > 0);
    const [issued] = await issuedLink();
    const token = deriveLinkToken(RECORDING_MAIL.linkSecret, 'password_reset', issued!.subject_id, issued!.issue_key).token;
    if ((await resets.complete({ token, password: PASSWORD })).kind !== 'reset') throw new Error('the derived reset link did not reset');
    const handle = client.workflow.getHandle(passwordResetWorkflowIdFor(tenant.ownerEmail));
    await handle.result();
    await recorder.save('password-reset-completed', await handle.fetchHistory());
  }

  for (const [name, settle] of [
    ['invitation-accepted', 'accept'],
    ['invitation-revoked', 'revoke'],
  ] as const) {
    if (!recorder.wants(name)) continue;
    const tenant = await createActiveTenant(orm, { slug: `replay-${settle}-${Date.now().toString(36)}` });
    const team = createTeamService({ ...services, expiryDays: 7, reminderAfterHours: 72, mailRation: DEFAULT_MAIL_RATION_SETTINGS });
    const by = { actor: 'user:recorder', userId: null, role: 'owner' as const };
    const invited = await team.invite({ tenantId: tenant.tenantId, email: `invitee-${tenant.slug}@example.com`, role: 'member', by });
    if (invited.kind !== 'invited') throw new Error(`invite answered ${invited.kind}`);
    const handle = client.workflow.getHandle(invitationWorkflowId(invited.invitation.id));
    await waitForRow(async () => (await orm.em.fork().execute(`select 1 from mail_delivery where workflow_id = ? and status = 'sent'`, [handle.workflowId])).length > 0);
    if (settle === 'accept') {
      const runId = (await handle.describe()).runId;
      const token = deriveLinkToken(RECORDING_MAIL.linkSecret, 'invitation', invited.invitation.id, `${runId}:1`).token;
      const accepted = await team.accept({ token, password: PASSWORD });
      if (accepted.kind !== 'accepted') throw new Error(`accept answered ${accepted.kind}`);
    } else {
      await team.revoke({ tenantId: tenant.tenantId, invitationId: invited.invitation.id, by });
    }
    await handle.result();
    await recorder.save(name, await handle.fetchHistory());
  }
};

async function waitForRow(found: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await found())) {
    if (Date.now() > deadline) throw new Error('the workflow did not reach its step in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
