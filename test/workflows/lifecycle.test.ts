import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  forceCompleteTenantUpdate,
  lifecycleStateQuery,
  restoreUpdate,
  softDeleteUpdate,
  suspendUpdate,
  terminateTenantUpdate,
  unsuspendUpdate,
} from '../../src/contracts/lifecycle';
import { runStatusQuery } from '../../src/contracts/run';
import type { Orm } from '../../src/db/orm';
import { SYSTEM_TENANT_ID } from '../../src/domain/lifecycle';
import { createMetrics } from '../../src/observability/metrics';
import { createLifecycleService } from '../../src/services/lifecycle-service';
import { billingTrialWorkflowId, tenantLifecycleWorkflowId } from '../../src/temporal/workflow-ids';
import type { Worker } from '@temporalio/worker';
import { tenantWorld } from '../support/auth';
import { lifecycleAudit, operator, startLifecycle, tenantRemains } from '../support/lifecycle';
import { provisionInput } from '../support/provisioning';
import { createActiveTenant, runAuditActions, runInput, runRow, seedRecord, startRun, tenantData } from '../support/runs';
import { connectToDevServer, startWorker, testOrm, uniqueTaskQueue, type DevServerHarness } from '../support/stack';
import { ActivityFaults, offboardingStepFault, slowLifecycleTransitions } from '../../tools/fixtures/activity-faults';
import { waitFor } from '../support/wait';

let temporal: DevServerHarness;
let orm: Orm;
let worker: Worker;
let workerRun: Promise<void>;
const metrics = createMetrics();
const taskQueue = uniqueTaskQueue('lifecycle');
const ALL_ACTIONS = [
  ['suspend', suspendUpdate],
  ['unsuspend', unsuspendUpdate],
  ['softDelete', softDeleteUpdate],
  ['restore', restoreUpdate],
  ['terminate', terminateTenantUpdate],
  ['forceComplete', forceCompleteTenantUpdate],
] as const;

const faults = new ActivityFaults();

beforeAll(async () => {
  temporal = await connectToDevServer();
  orm = await testOrm();
  worker = await startWorker({ connection: temporal.connection, taskQueue, orm, metrics, activityInterceptors: [faults.interceptor] });
  workerRun = worker.run();
});
afterAll(async () => {
  worker.shutdown();
  await workerRun;
  await temporal.close();
  await orm.close(true);
});

/** The failure type an update was refused with. */
async function refusalOf(attempt: Promise<unknown>): Promise<string | undefined> {
  try {
    await attempt;
    return undefined;
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) return error.cause.type ?? undefined;
    throw error;
  }
}

const transitionsCounted = async (from: string, to: string) =>
  (await metrics.lifecycleTransitions.get()).values.find((value) => value.labels.from === from && value.labels.to === to)?.value ?? 0;

describe('tenantLifecycle on the dev server', () => {
  it('is started by provisioning when the tenant becomes active, tagged for the Web UI, beside the trial timer', async () => {
    const input = provisionInput();
    await temporal.client.workflow.execute('provisionTenant', { taskQueue, workflowId: `provision:${input.slug}`, args: [input] });
    const lifecycle = temporal.client.workflow.getHandle(tenantLifecycleWorkflowId(input.tenantId));
    await waitFor(async () => (await lifecycle.describe()).status.name === 'RUNNING');
    const description = await lifecycle.describe();
    expect(description.type).toBe('tenantLifecycle');
    expect(description.searchAttributes).toMatchObject({ TenantId: [input.tenantId], TenantLifecycleState: ['active'] });
    expect((await lifecycle.query(lifecycleStateQuery)).state).toBe('active');
    const trial = await temporal.client.workflow.getHandle(billingTrialWorkflowId(input.tenantId)).describe();
    expect(trial).toMatchObject({ type: 'billingTrial', status: { name: 'RUNNING' } });
    expect(trial.searchAttributes).toMatchObject({ TenantId: [input.tenantId] });
  });

  it('suspends and unsuspends: Postgres, the audit trail, the search attribute and the metric follow each change', async () => {
    const tenant = await createActiveTenant(orm);
    const handle = await startLifecycle(temporal.client, taskQueue, tenant.tenantId);
    const before = await transitionsCounted('active', 'suspended');

    const suspended = await handle.executeUpdate(suspendUpdate, { args: [operator('chargeback', 'operator:ada')] });
    expect(suspended).toMatchObject({ from: 'active', to: 'suspended' });
    expect((await tenantRemains(orm, tenant.tenantId)).status).toBe('suspended');
    await waitFor(async () => (await handle.describe()).searchAttributes.TenantLifecycleState?.[0] === 'suspended');

    const unsuspended = await handle.executeUpdate(unsuspendUpdate, { args: [operator('paid', 'operator:grace')] });
    expect(unsuspended).toMatchObject({ from: 'suspended', to: 'active' });
    expect((await tenantRemains(orm, tenant.tenantId)).status).toBe('active');
    expect(await lifecycleAudit(orm, tenant.tenantId)).toEqual([
      { action: 'lifecycle.suspended', actor: 'operator:ada', from_state: 'active', to_state: 'suspended', reason: 'chargeback', correlation_id: handle.workflowId },
      { action: 'lifecycle.unsuspended', actor: 'operator:grace', from_state: 'suspended', to_state: 'active', reason: 'paid', correlation_id: handle.workflowId },
    ]);
    expect(await transitionsCounted('active', 'suspended')).toBe(before + 1);
  });

  it('refuses a transition the state does not allow at once, with a reason, and writes nothing', async () => {
    const tenant = await createActiveTenant(orm);
    const handle = await startLifecycle(temporal.client, taskQueue, tenant.tenantId);
    const world = await tenantWorld(orm, [tenant.tenantId]);
    expect(await refusalOf(handle.executeUpdate(unsuspendUpdate, { args: [operator('not suspended')] }))).toBe('TransitionNotAllowed');
    expect(await refusalOf(handle.executeUpdate(restoreUpdate, { args: [operator('not deleted')] }))).toBe('TransitionNotAllowed');
    expect(await refusalOf(handle.executeUpdate(suspendUpdate, { args: [{ actor: ' ', reason: 'who?' }] }))).toBe('ActorRequired');
    expect(await refusalOf(handle.executeUpdate(softDeleteUpdate, { args: [{ ...operator('bad'), retentionDays: 0 }] }))).toBe('BadRetention');
    expect(await tenantWorld(orm, [tenant.tenantId])).toEqual(world);
  });

  it('two operators suspending at the same moment: one consistent state, both attempts audited', async () => {
    const tenant = await createActiveTenant(orm);
    // A slow status change, so the second request is accepted while the first is still under way.
    faults.add(slowLifecycleTransitions(tenant.tenantId, 2));
    const handle = await startLifecycle(temporal.client, taskQueue, tenant.tenantId);
    const attempts = await Promise.allSettled([
      handle.executeUpdate(suspendUpdate, { args: [operator('fraud report', 'operator:ada')] }),
      handle.executeUpdate(suspendUpdate, { args: [operator('abuse report', 'operator:grace')] }),
    ]);
    expect(attempts.map((attempt) => attempt.status).sort()).toEqual(['fulfilled', 'rejected']);
    const rejected = attempts.find((attempt) => attempt.status === 'rejected') as PromiseRejectedResult;
    expect((rejected.reason as WorkflowUpdateFailedError).cause).toMatchObject({ type: 'TransitionNotAllowed' });
    expect((await tenantRemains(orm, tenant.tenantId)).status).toBe('suspended');
    const audit = await lifecycleAudit(orm, tenant.tenantId);
    expect(audit.map((row) => row.action).sort()).toEqual(['lifecycle.suspended', 'lifecycle.transition_refused']);
    expect(audit.map((row) => row.actor).sort()).toEqual(['operator:ada', 'operator:grace']);
    expect((await handle.query(lifecycleStateQuery)).transitionCount).toBe(1);
  });

  it('never lets the system tenant be suspended, deleted or terminated', async () => {
    // Under an id of its own: the shared dev server may hold the real `tenant:<system id>` of another test file.
    const handle = await startLifecycle(temporal.client, taskQueue, SYSTEM_TENANT_ID, { slug: 'system' }, `tenant:${SYSTEM_TENANT_ID}:${taskQueue}`);
    const world = await tenantWorld(orm, [SYSTEM_TENANT_ID]);
    expect(world.tenants).toEqual([{ id: SYSTEM_TENANT_ID, status: 'active', onboarding_state: 'complete' }]);
    for (const update of [suspendUpdate, softDeleteUpdate, terminateTenantUpdate]) {
      expect(await refusalOf(handle.executeUpdate(update, { args: [operator('try the guard')] }))).toBe('SystemTenantProtected');
    }
    expect(await tenantWorld(orm, [SYSTEM_TENANT_ID])).toEqual(world);
    await handle.terminate('test over');
  });

  it('terminate: in-flight runs roll back, offboarding retries through a failure, and then every transition is refused', async () => {
    const tenant = await createActiveTenant(orm);
    await seedRecord(orm, tenant.tenantId, 'doc', 'before');
    const run = runInput(tenant.tenantId, [
      { kind: 'records.write', key: 'doc', value: 'after' },
      { kind: 'approval', timeout: '1h' },
    ]);
    const runHandle = await startRun(temporal.client, taskQueue, run);
    await waitFor(async () => (await runHandle.query(runStatusQuery)).pendingApproval !== null);
    expect((await tenantData(orm, tenant.tenantId)).records).toEqual({ doc: 'after' });

    faults.add(offboardingStepFault(tenant.tenantId, 'exportArchive', 3));
    const handle = await startLifecycle(temporal.client, taskQueue, tenant.tenantId);
    const answer = await handle.executeUpdate(terminateTenantUpdate, { args: [operator('contract ended', 'operator:ada')] });
    expect(answer).toMatchObject({ from: 'active', to: 'pending_deletion', offboarding: true });

    // While offboarding retries its failing step, the tenant stays locked and nothing can undo it.
    await waitFor(async () => (await handle.query(lifecycleStateQuery)).offboarding !== null);
    const during = await tenantWorld(orm, [tenant.tenantId]);
    for (const [, update] of ALL_ACTIONS) {
      expect(await refusalOf(handle.executeUpdate(update, { args: [operator('second thoughts')] }))).toBe('OffboardingUnderWay');
    }
    expect(['pending_deletion', 'terminated']).toContain((await tenantRemains(orm, tenant.tenantId)).status);
    expect((await tenantWorld(orm, [tenant.tenantId])).tenants).toEqual(during.tenants);

    expect((await handle.result()).state).toBe('terminated');
    await expect(runHandle.result()).rejects.toThrow();
    const remains = await tenantRemains(orm, tenant.tenantId);
    expect(remains).toMatchObject({ status: 'terminated', schema: false, memberships: 0, billing: 0 });
    expect(remains.archive?.checksumMatches).toBe(true);
    // The run was rolled back before the export: the archive holds the data as it was before the run, and the run.
    expect(remains.archive?.payload.records).toEqual([expect.objectContaining({ key: 'doc', value: 'before' })]);
    expect(remains.archive?.payload.runs).toEqual([expect.objectContaining({ id: run.runId, phase: 'FAILED', cause: expect.objectContaining({ type: 'OperatorTerminated' }) })]);
    // Then the run's records went with the tenant's data (its plan holds a written value); its audit trail stayed.
    expect(await runRow(orm, run.runId)).toBeUndefined();
    const bookkeeping = await orm.em.fork().execute(
      `select (select count(*) from run_expectation where run_id = ?) + (select count(*) from run_ack where run_id = ?) + (select count(*) from run_incident where run_id = ?) as n`,
      [run.runId, run.runId, run.runId],
    );
    expect(Number(bookkeeping[0]!.n)).toBe(0);
    expect(await runAuditActions(orm, run.runId)).toEqual(expect.arrayContaining(['run.created', 'run.rollback_started', 'run.failed']));

    const service = createLifecycleService({ client: temporal.client, orm, taskQueue, retentionDays: 30 });
    const after = await tenantWorld(orm, [tenant.tenantId]);
    for (const [action] of ALL_ACTIONS) {
      const outcome = await service.transition(tenant.tenantId, action, operator('bring it back'));
      expect(outcome).toMatchObject({ kind: 'refused', refusal: { type: 'TenantTerminated' } });
    }
    expect(await tenantWorld(orm, [tenant.tenantId])).toEqual(after);
  });

  it('force-complete ends a running retention wait now: the tenant is offboarded and the override is audited', async () => {
    const tenant = await createActiveTenant(orm);
    const handle = await startLifecycle(temporal.client, taskQueue, tenant.tenantId);
    await handle.executeUpdate(softDeleteUpdate, { args: [operator('closing')] });
    const answer = await handle.executeUpdate(forceCompleteTenantUpdate, { args: [operator('legal hold lifted', 'operator:ada')] });
    expect(answer).toMatchObject({ action: 'forceComplete', offboarding: true });
    expect((await handle.result()).state).toBe('terminated');
    const forced = (await lifecycleAudit(orm, tenant.tenantId)).find((row) => row.action === 'lifecycle.force_completed');
    expect(forced).toMatchObject({ actor: 'operator:ada', reason: 'legal hold lifted' });
  });

  it('a lifecycle workflow closed by hand is started again from Postgres, with its retention deadline', async () => {
    const tenant = await createActiveTenant(orm);
    const service = createLifecycleService({ client: temporal.client, orm, taskQueue, retentionDays: 30 });
    const deleted = await service.transition(tenant.tenantId, 'softDelete', { ...operator('closing'), retentionDays: 10 });
    expect(deleted).toMatchObject({ kind: 'done', answer: { to: 'pending_deletion' } });
    const deadline = deleted.kind === 'done' ? deleted.answer.deletesAt : null;
    await temporal.client.workflow.getHandle(tenantLifecycleWorkflowId(tenant.tenantId)).terminate('closed by hand');

    const refused = await service.transition(tenant.tenantId, 'suspend', operator('not while deleting'));
    expect(refused).toEqual({ kind: 'refused', refusal: expect.objectContaining({ type: 'TransitionNotAllowed' }) });
    const restarted = temporal.client.workflow.getHandle(tenantLifecycleWorkflowId(tenant.tenantId));
    expect(await restarted.query(lifecycleStateQuery)).toMatchObject({ state: 'pending_deletion', deletesAt: deadline, offboarding: null });
    expect(await service.transition(tenant.tenantId, 'restore', operator('kept'))).toMatchObject({ kind: 'done', answer: { to: 'active' } });
    expect((await lifecycleAudit(orm, tenant.tenantId)).map((row) => row.action)).toEqual(['lifecycle.soft_deleted', 'lifecycle.restored']);
    await restarted.terminate('test over');
  });

  it('the admin view answers from Postgres when no worker answers the workflow', async () => {
    const tenant = await createActiveTenant(orm);
    const unpolled = uniqueTaskQueue('nobody-polls');
    const handle = await startLifecycle(temporal.client, unpolled, tenant.tenantId);
    const service = createLifecycleService({ client: temporal.client, orm, taskQueue: unpolled, retentionDays: 30 });
    const view = await service.view(tenant.tenantId);
    expect(view).toMatchObject({ tenantId: tenant.tenantId, state: 'active', lifecycle: null });
    await handle.terminate('test over');
  });

  it('continues as new past its history bound and keeps its state, deadline and count', async () => {
    const tenant = await createActiveTenant(orm);
    const handle = await startLifecycle(temporal.client, taskQueue, tenant.tenantId, { testHooks: { historyLimit: 40 } });
    const firstRun = (await handle.describe()).runId;
    for (let round = 0; round < 3; round += 1) {
      await handle.executeUpdate(suspendUpdate, { args: [operator(`round ${round}`)] });
      await handle.executeUpdate(unsuspendUpdate, { args: [operator(`round ${round}`)] });
    }
    const deleted = await handle.executeUpdate(softDeleteUpdate, { args: [{ ...operator('closing'), retentionDays: 10 }] });
    await waitFor(async () => (await handle.describe()).runId !== firstRun);
    const view = await handle.query(lifecycleStateQuery);
    expect(view).toMatchObject({ state: 'pending_deletion', transitionCount: 7, deletesAt: deleted.deletesAt });
    expect((await handle.executeUpdate(restoreUpdate, { args: [operator('kept')] })).to).toBe('active');
    expect((await tenantRemains(orm, tenant.tenantId)).status).toBe('active');
    await handle.terminate('test over');
  });
});
