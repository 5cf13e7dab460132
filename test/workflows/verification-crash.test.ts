import type { Client } from '@temporalio/client';
import { deriveLinkToken } from '../../src/auth/link-token';
import { secretHash } from '../../src/auth/secret-hash';
import type { EmailVerificationInput } from '../../src/contracts/accounts';
import type { Orm } from '../../src/db/orm';
import { createVerificationService } from '../../src/services/accounts/verification-service';
import { emailVerificationWorkflowId } from '../../src/temporal/workflow-ids';
import { ActivityFaults } from '../../tools/fixtures/activity-faults';
import { linkToken, mailsTo, waitForMails } from '../support/mailpit';
import { createActiveTenant } from '../support/runs';
import { connectToDevServer, startWorker, testMail, testOrm, uniqueTaskQueue, type DevServerHarness } from '../support/stack';
import { waitFor } from '../support/wait';

// On the dev server with real Postgres and SMTP: the link of a verification survives the worker that issued it.
let temporal: DevServerHarness;
let client: Client;
let orm: Orm;
const SETTINGS = { reminderAfterHours: 48, abandonAfterDays: 7 };

beforeAll(async () => {
  temporal = await connectToDevServer();
  client = temporal.client;
  orm = await testOrm();
});
afterAll(async () => {
  await temporal.close();
  await orm.close(true);
});

const storedHash = async (tenantId: string) =>
  ((await orm.em.fork().execute(`select token_hash from link_token where purpose = 'email_verification' and subject_id = ?`, [tenantId]))[0] as { token_hash: string | null } | undefined)?.token_hash;

/** A pending signup's verification; `faults` are planned for it before it starts. */
async function start(taskQueue: string, faults?: (workflowId: string) => void) {
  const tenant = await createActiveTenant(orm);
  faults?.(emailVerificationWorkflowId(tenant.tenantId));
  const input: EmailVerificationInput = { tenantId: tenant.tenantId, ...SETTINGS };
  const handle = await client.workflow.start('emailVerification', { taskQueue, workflowId: emailVerificationWorkflowId(tenant.tenantId), args: [input] });
  return { ...tenant, handle, verification: createVerificationService({ client, orm, taskQueue, settings: SETTINGS }) };
}

describe('a verification link across worker failures', () => {
  it('a worker stopped between creating the link and mailing it leaves exactly one valid link, mailed once by the next worker', async () => {
    const taskQueue = uniqueTaskQueue('verify-crash');
    const faults = new ActivityFaults();
    // Worker A runs without a configured link secret of its own (as a process without AUTH_TOKEN_SECRET would).
    const secretOfA = 'worker-a-secret-worker-a-secret-worker-a';
    const workerA = await startWorker({ connection: temporal.connection, taskQueue, orm, activityInterceptors: [faults.interceptor], mail: { ...testMail(), linkSecret: secretOfA } });
    let signup!: Awaited<ReturnType<typeof start>>;
    await workerA.runUntil(async () => {
      signup = await start(taskQueue, (workflowId) => faults.add({ workflowId, activity: 'sendVerificationMail', when: 'before', mode: 'transient', failures: 1 }));
      // The link is created; its first send dies before anything is mailed; then worker A is gone.
      await waitFor(async () => ((await signup.handle.describe()).raw.pendingActivities ?? []).some((activity) => activity.activityType?.name === 'sendVerificationMail' && (activity.attempt ?? 0) >= 2));
    });
    const createdByA = deriveLinkToken(secretOfA, 'email_verification', signup.tenantId, `${signup.handle.firstExecutionRunId}:1`);
    expect(await storedHash(signup.tenantId)).toBe(createdByA.hash);
    expect(await mailsTo(signup.ownerEmail)).toEqual([]);

    // Worker B (another secret) takes the retry: it mails a link, and the stored hash is that link's, so only it works.
    const workerB = await startWorker({ connection: temporal.connection, taskQueue, orm });
    await workerB.runUntil(async () => {
      const [mail] = await waitForMails(signup.ownerEmail, 1);
      const token = linkToken(mail!, 'verify-email');
      expect(await storedHash(signup.tenantId)).toBe(secretHash(token));
      expect(await signup.verification.verify(createdByA.token)).toEqual({ kind: 'invalid' });
      expect(await signup.verification.verify(token)).toMatchObject({ kind: 'verified' });
      expect((await signup.handle.result()).outcome).toBe('verified');
    });
    expect(await mailsTo(signup.ownerEmail)).toHaveLength(1);
  });

  it('a send that fails after the mail went out is retried without mailing it again', async () => {
    const taskQueue = uniqueTaskQueue('verify-retry');
    const faults = new ActivityFaults();
    const worker = await startWorker({ connection: temporal.connection, taskQueue, orm, activityInterceptors: [faults.interceptor] });
    await worker.runUntil(async () => {
      const signup = await start(taskQueue, (workflowId) => faults.add({ workflowId, activity: 'sendVerificationMail', when: 'after', mode: 'transient', failures: 1 }));
      await waitFor(async () => {
        const rows = await orm.em.fork().execute(`select attempts, status from mail_delivery where tenant_id = ?`, [signup.tenantId]);
        return rows.length === 1 && rows[0].status === 'sent';
      });
      // The retry found the mail on the ledger: the workflow goes on waiting, with one mail sent.
      await waitFor(async () => ((await signup.handle.describe()).raw.pendingActivities ?? []).length === 0);
      expect(await mailsTo(signup.ownerEmail)).toHaveLength(1);
      await signup.handle.terminate('test finished');
    });
  });
});
