import type { Worker } from '@temporalio/worker';
import request from 'supertest';
import { billingTrialStatusQuery } from '../../src/contracts/billing';
import type { Orm } from '../../src/db/orm';
import { DAY_MS } from '../../src/domain/duration';
import { TRIAL_DAYS } from '../../src/domain/tenant-status';
import { restartBillingTrial } from '../../src/services/billing-trial-starter';
import { bearer, buildTestApp, OPERATORS, provisionTeam, type TestApp } from '../support/auth';
import { connectToDevServer, startWorker, testOrm, uniqueTaskQueue, type DevServerHarness } from '../support/stack';
import { waitFor } from '../support/wait';

// The API and a worker on one task queue of their own, on the dev server: the re-armed timer really runs.
let temporal: DevServerHarness;
let orm: Orm;
let worker: Worker;
let workerRun: Promise<void>;
let subject: TestApp;
const taskQueue = uniqueTaskQueue('trial-rearm');
const founder = bearer(OPERATORS.founder.token);
const timers: string[] = [];

beforeAll(async () => {
  temporal = await connectToDevServer();
  orm = await testOrm();
  worker = await startWorker({ connection: temporal.connection, taskQueue, orm });
  workerRun = worker.run();
  subject = await buildTestApp(orm, { env: { TEMPORAL_TASK_QUEUE: taskQueue } });
});
afterAll(async () => {
  for (const workflowId of timers) await temporal.client.workflow.getHandle(workflowId).terminate('test done').catch(() => undefined);
  await subject?.close();
  worker?.shutdown();
  await workerRun;
  await temporal?.close();
  await orm?.close(true);
});

const setBilling = (tenantId: string, body: Record<string, string>) => request(subject.app).put(`/api/v1/admin/tenants/${tenantId}/billing-state`).set(founder).send(body);
const rearms = (tenantId: string) =>
  orm.em.fork().execute(`select actor, from_state, to_state, reason, details from audit_event where tenant_id = ? and action = 'billing.trial_rearmed' order by id`, [tenantId]);

describe('an operator sets billing back to trial', () => {
  it('re-arms the trial: a new end date, the timer restarted on it, audited; doing it again changes nothing', async () => {
    const team = await provisionTeam(orm);
    const oldEnd = new Date(Date.now() + DAY_MS);
    await orm.em.fork().execute('update billing_account set trial_ends_at = ? where tenant_id = ?', [oldEnd, team.tenantId]);
    const timerId = await restartBillingTrial(temporal.client, { tenantId: team.tenantId, taskQueue });
    timers.push(timerId);
    const oldTimer = temporal.client.workflow.getHandle(timerId);
    await waitFor(async () => (await oldTimer.query(billingTrialStatusQuery)).trialEndsAt !== null);
    const oldRunId = (await oldTimer.describe()).runId;

    expect((await setBilling(team.tenantId, { subscriptionState: 'expired', reason: 'card declined' })).status).toBe(200);
    const before = Date.now();
    const response = await setBilling(team.tenantId, { subscriptionState: 'trial', reason: 'sales extended the trial' });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ subscriptionState: 'trial', changed: true });
    const newEnd = Date.parse(response.body.trialEndsAt);
    expect(newEnd).toBeGreaterThanOrEqual(before + TRIAL_DAYS * DAY_MS);
    expect(newEnd).toBeLessThanOrEqual(Date.now() + TRIAL_DAYS * DAY_MS);

    // The timer waiting on the old date is gone; a new one waits on the new date.
    expect((await temporal.client.workflow.getHandle(timerId, oldRunId).describe()).status.name).toBe('TERMINATED');
    const timer = temporal.client.workflow.getHandle(timerId);
    expect((await timer.describe()).status.name).toBe('RUNNING');
    await waitFor(async () => (await timer.query(billingTrialStatusQuery)).trialEndsAt !== null);
    expect(await timer.query(billingTrialStatusQuery)).toMatchObject({ phase: 'trial', subscriptionState: 'trial', trialEndsAt: response.body.trialEndsAt });
    expect(await rearms(team.tenantId)).toEqual([
      {
        actor: 'operator:ada',
        from_state: 'expired',
        to_state: 'trial',
        reason: 'sales extended the trial',
        details: { previousTrialEndsAt: oldEnd.toISOString(), trialEndsAt: response.body.trialEndsAt },
      },
    ]);

    const again = await setBilling(team.tenantId, { subscriptionState: 'trial', reason: 'sales extended the trial' });
    expect(again.body).toMatchObject({ changed: false, trialEndsAt: response.body.trialEndsAt });
    expect(await rearms(team.tenantId)).toHaveLength(1);
    await waitFor(async () => (await timer.query(billingTrialStatusQuery)).trialEndsAt !== null);
    expect(await timer.query(billingTrialStatusQuery)).toMatchObject({ phase: 'trial', trialEndsAt: response.body.trialEndsAt });
  });
});
