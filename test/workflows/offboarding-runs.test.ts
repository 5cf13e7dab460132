import { MockActivityEnvironment } from '@temporalio/testing';
import { createOffboardingActivities } from '../../activities/offboarding';
import { runStatusQuery, terminateRunUpdate, type RunInput } from '../../src/contracts/run';
import type { Orm } from '../../src/db/orm';
import { createLifecycleService } from '../../src/services/lifecycle-service';
import { RUN_WORKFLOW_TYPE } from '../../src/temporal/run-visibility';
import { offboardingWorkflowId, tenantLifecycleWorkflowId } from '../../src/temporal/workflow-ids';
import { operator, tenantRemains } from '../support/lifecycle';
import { runOpeningWriteFault } from '../../tools/fixtures/activity-faults';
import { createActiveTenant, runAuditActions, runInput, runRow, startRun } from '../support/runs';
import { startDevServerWorker, uniqueTaskQueue, type DevServerHarness, type DevServerWorker } from '../support/stack';
import { waitFor } from '../support/wait';

let temporal: DevServerHarness;
let orm: Orm;
let rig: DevServerWorker;
const taskQueue = uniqueTaskQueue('offboarding-runs');

beforeAll(async () => {
  rig = await startDevServerWorker(taskQueue);
  ({ temporal, orm } = rig);
});
afterAll(async () => {
  await rig.close();
});

const runningOfTenant = async (tenantId: string, type?: string) =>
  (await temporal.client.workflow.count(`TenantId = '${tenantId}' AND ExecutionStatus = 'Running'${type ? ` AND WorkflowType = '${type}'` : ''}`)).count;

/** A run parked in an hour-long wait, listed running under its tenant, as an operator would see it in the Web UI. */
async function startWaitingRun(input: RunInput) {
  const handle = await startRun(temporal.client, taskQueue, input);
  await waitFor(async () => (await handle.query(runStatusQuery)).steps.at(-1)!.state === 'running');
  await waitFor(async () => (await temporal.client.workflow.count(`WorkflowId = '${handle.workflowId}' AND TenantId = '${input.tenantId}' AND ExecutionStatus = 'Running'`)).count === 1);
  return handle;
}

/** A waiting run whose opening write failed: it runs on DEGRADED and the `run` table has never heard of it. */
async function startRowlessRun(tenantId: string) {
  const input = runInput(tenantId, [{ kind: 'wait', duration: '1h' }]);
  rig.faults.add(runOpeningWriteFault(input.runId));
  const handle = await startWaitingRun(input);
  expect(await runRow(orm, input.runId)).toBeUndefined();
  expect((await handle.query(runStatusQuery)).degraded).toBe(true);
  return { input, handle };
}

/** A waiting run whose row says it is in flight. */
async function startRecordedRun(tenantId: string) {
  const input = runInput(tenantId, [{ kind: 'wait', duration: '1h' }]);
  const handle = await startWaitingRun(input);
  expect(await runRow(orm, input.runId)).toMatchObject({ phase: 'EXECUTING', outcome: null });
  return { input, handle };
}

describe('offboarding ends every run of the tenant, with or without a row', () => {
  it('terminating a tenant ends its run whose opening write failed before its data is exported and dropped', async () => {
    const tenant = await createActiveTenant(orm);
    const rowless = await startRowlessRun(tenant.tenantId);
    const recorded = await startRecordedRun(tenant.tenantId);

    const lifecycle = createLifecycleService({ client: temporal.client, orm, taskQueue, retentionDays: 30 });
    const answer = await lifecycle.transition(tenant.tenantId, 'terminate', operator('contract ended', 'operator:ada'));
    expect(answer).toMatchObject({ kind: 'done', answer: { to: 'pending_deletion', offboarding: true } });
    const offboarded = await temporal.client.workflow.getHandle(offboardingWorkflowId(tenant.tenantId)).result();
    expect(offboarded).toMatchObject({ runsTerminated: 2 });
    expect((await temporal.client.workflow.getHandle(tenantLifecycleWorkflowId(tenant.tenantId)).result()).state).toBe('terminated');

    for (const { handle } of [rowless, recorded]) {
      await expect(handle.result()).rejects.toMatchObject({ cause: { type: 'OperatorTerminated' } });
      expect((await handle.describe()).status.name).toBe('FAILED');
    }
    // Its first row is the one its rollback wrote on the way out, and the archive holds it: it ended before the export.
    expect(await runAuditActions(orm, rowless.input.runId)).not.toContain('run.created');
    const remains = await tenantRemains(orm, tenant.tenantId);
    expect(remains).toMatchObject({ status: 'terminated', schema: false });
    expect(remains.archive?.payload.runs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: rowless.input.runId, phase: 'FAILED', cause: expect.objectContaining({ type: 'OperatorTerminated', actor: 'operator:ada' }) }),
        expect.objectContaining({ id: recorded.input.runId, phase: 'FAILED' }),
      ]),
    );
    // Exported, then purged with the rest of the tenant's data.
    expect(await runRow(orm, rowless.input.runId)).toBeUndefined();
    expect(await runRow(orm, recorded.input.runId)).toBeUndefined();
    await waitFor(async () => (await runningOfTenant(tenant.tenantId)) === 0);
  });

  it('the offboarding step run twice ends a rowless and a recorded run once, and leaves another tenant alone', async () => {
    const leaving = await createActiveTenant(orm);
    const staying = await createActiveTenant(orm);
    const rowless = await startRowlessRun(leaving.tenantId);
    const recorded = await startRecordedRun(leaving.tenantId);
    const bystander = await startRowlessRun(staying.tenantId);

    const offboarding = createOffboardingActivities({ orm, client: temporal.client });
    const step = { tenantId: leaving.tenantId, workflowId: offboardingWorkflowId(leaving.tenantId), actor: 'system:offboarding', reason: null };
    expect(await new MockActivityEnvironment().run(() => offboarding.terminateTenantRuns(step))).toEqual({ terminated: 2 });
    for (const { handle } of [rowless, recorded]) {
      await expect(handle.result()).rejects.toMatchObject({ cause: { type: 'OperatorTerminated' } });
      expect((await handle.query(runStatusQuery)).cause?.actor).toBe('system:offboarding');
    }
    expect(await runningOfTenant(leaving.tenantId, RUN_WORKFLOW_TYPE)).toBe(0);

    expect(await new MockActivityEnvironment().run(() => offboarding.terminateTenantRuns(step))).toEqual({ terminated: 0 });
    expect((await bystander.handle.describe()).status.name).toBe('RUNNING');
    expect((await bystander.handle.query(runStatusQuery)).phase).toBe('EXECUTING');
    await bystander.handle.executeUpdate(terminateRunUpdate, { args: [operator('clean up', 'test')] });
    await expect(bystander.handle.result()).rejects.toMatchObject({ cause: { type: 'OperatorTerminated' } });
  });

  it("purge deletes the tenant's runs and their books after the export, keeps their audit trail, changes nothing run twice and leaves another tenant's runs alone", async () => {
    const leaving = await createActiveTenant(orm);
    const staying = await createActiveTenant(orm);
    const finished = await Promise.all(
      [leaving, staying].map(async (tenant) => {
        const input = runInput(tenant.tenantId, [{ kind: 'records.write', key: 'doc', value: 'secret' }]);
        await (await startRun(temporal.client, taskQueue, input)).result();
        return input.runId;
      }),
    );
    const books = (runId: string) =>
      orm.em.fork().execute<Array<{ runs: string; expectations: string; acks: string }>>(
        `select (select count(*) from run where id = ?) as runs, (select count(*) from run_expectation where run_id = ?) as expectations, (select count(*) from run_ack where run_id = ?) as acks`,
        [runId, runId, runId],
      );
    const stayingBefore = await books(finished[1]!);

    const offboarding = createOffboardingActivities({ orm, client: temporal.client });
    const step = { tenantId: leaving.tenantId, workflowId: offboardingWorkflowId(leaving.tenantId), actor: 'system:offboarding', reason: null };
    await offboarding.exportTenantArchive(step);
    await offboarding.purgeTenantData(step);
    expect(await books(finished[0]!)).toEqual([{ runs: '0', expectations: '0', acks: '0' }]);
    expect(await runAuditActions(orm, finished[0]!)).toEqual(expect.arrayContaining(['run.created', 'run.step_applied', 'run.completed']));
    expect((await tenantRemains(orm, leaving.tenantId)).archive?.payload.runs).toEqual([expect.objectContaining({ id: finished[0], phase: 'COMPLETED' })]);

    const auditBefore = (await runAuditActions(orm, finished[0]!)).length;
    await offboarding.purgeTenantData(step);
    expect(await books(finished[0]!)).toEqual([{ runs: '0', expectations: '0', acks: '0' }]);
    expect(await runAuditActions(orm, finished[0]!)).toHaveLength(auditBefore);
    expect(await books(finished[1]!)).toEqual(stayingBefore);
    expect(Number(stayingBefore[0]!.expectations)).toBeGreaterThan(0);
  });

  it('refuses a tenant id that is not a uuid before it reaches a visibility query', async () => {
    const offboarding = createOffboardingActivities({ orm, client: temporal.client });
    const forged = { tenantId: "x' OR TenantId != 'x", workflowId: 'offboard:forged', actor: 'system:offboarding', reason: null };
    await expect(new MockActivityEnvironment().run(() => offboarding.terminateTenantRuns(forged))).rejects.toMatchObject({ type: 'InvalidTenantId', nonRetryable: true });
  });
});
