import request from 'supertest';
import type { Orm } from '../../src/db/orm';
import { unconfiguredMailer } from '../../src/mail/mailer';
import { createMetrics } from '../../src/observability/metrics';
import { createTeamService } from '../../src/services/accounts/team-service';
import { invitationWorkflowId } from '../../src/temporal/workflow-ids';
import { bearer, buildTestApp, OPERATORS, type TestApp } from '../support/auth';
import { createActiveTenant } from '../support/runs';
import { connectToDevServer, startWorker, testMail, testOrm, uniqueSlug, uniqueTaskQueue, type DevServerHarness } from '../support/stack';
import { waitFor } from '../support/wait';
import { DEFAULT_MAIL_RATION_SETTINGS } from '../../src/domain/mail-ration';

// On the dev server with real Postgres: a mail the SMTP side refuses for good is recorded for operators, not lost.
let temporal: DevServerHarness;
let orm: Orm;
let subject: TestApp;
const taskQueue = uniqueTaskQueue('mail-undelivered');

beforeAll(async () => {
  temporal = await connectToDevServer();
  orm = await testOrm();
  subject = await buildTestApp(orm, { env: { TEMPORAL_TASK_QUEUE: taskQueue } });
});
afterAll(async () => {
  await subject.close();
  await temporal.close();
  await orm.close(true);
});

describe('undelivered mail', () => {
  it('puts a mail that cannot be sent on the operators list, in the audit trail and in the metrics; the workflow goes on', async () => {
    const metrics = createMetrics();
    // A worker without an SMTP server: every send is refused for good, as a 5xx from a real server would be.
    const worker = await startWorker({ connection: temporal.connection, taskQueue, orm, metrics, mail: { ...testMail(), mailer: unconfiguredMailer } });
    await worker.runUntil(async () => {
      const tenant = await createActiveTenant(orm);
      await orm.em.fork().execute(`update billing_account set plan = 'pro', subscription_state = 'active' where tenant_id = ?`, [tenant.tenantId]);
      const email = `unreachable-${uniqueSlug('u')}@example.com`;
      const team = createTeamService({ client: temporal.client, orm, taskQueue, expiryDays: 7, reminderAfterHours: 72, mailRation: DEFAULT_MAIL_RATION_SETTINGS });
      const invited = await team.invite({ tenantId: tenant.tenantId, email, role: 'member', by: { actor: 'user:test', userId: null, role: 'owner' } });
      if (invited.kind !== 'invited') throw new Error(`invite answered ${invited.kind}`);
      const workflowId = invitationWorkflowId(invited.invitation.id);

      await waitFor(async () => {
        const listed = await request(subject.app).get('/api/v1/admin/mail/undelivered?limit=500').set(bearer(OPERATORS.ops.token));
        return listed.body.items.some((item: { recipient: string }) => item.recipient === email);
      });
      const listed = await request(subject.app).get('/api/v1/admin/mail/undelivered?limit=500').set(bearer(OPERATORS.ops.token));
      expect(listed.body.items.find((item: { recipient: string }) => item.recipient === email)).toMatchObject({
        kind: 'invitation',
        tenantId: tenant.tenantId,
        workflowId,
        attempts: 1,
        lastError: 'no SMTP server is configured (SMTP_URL)',
      });
      const audit = await orm.em.fork().execute(`select action, actor, correlation_id from audit_event where tenant_id = ? and action = 'mail.undelivered'`, [tenant.tenantId]);
      expect(audit).toEqual([{ action: 'mail.undelivered', actor: 'system:mail', correlation_id: workflowId }]);
      expect((await metrics.mails.get()).values).toContainEqual(expect.objectContaining({ labels: { kind: 'invitation', outcome: 'undelivered' }, value: 1 }));
      // The invitation stays pending: an admin can revoke it and invite again once mail works.
      expect((await temporal.client.workflow.getHandle(workflowId).describe()).status.name).toBe('RUNNING');
      await temporal.client.workflow.getHandle(workflowId).terminate('test finished');
    });
  });
});
