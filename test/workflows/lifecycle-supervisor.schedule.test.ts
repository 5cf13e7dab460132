import { WorkflowNotFoundError } from '@temporalio/client';
import { lifecycleStateQuery, softDeleteUpdate } from '../../src/contracts/lifecycle';
import { ensureLifecycleSupervisorSchedule } from '../../src/temporal/schedules';
import { offboardingWorkflowId, tenantLifecycleWorkflowId } from '../../src/temporal/workflow-ids';
import type { tenantLifecycle } from '../../workflows/lifecycle';
import type { superviseTenantLifecycles } from '../../workflows/lifecycle-supervisor';
import type { IsolatedDatabase } from '../support/isolated-database';
import { startScheduledPassRig, type ScheduledPassRig } from '../support/scheduled-pass';
import { operator, startLifecycle } from '../support/lifecycle';
import { createActiveTenant, setTenantStatus } from '../support/runs';
import { uniqueSlug, uniqueTaskQueue, type DevServerHarness } from '../support/stack';
import { waitFor } from '../support/wait';

// A database of its own: the supervisor starts a lifecycle for every tenant it finds, and must find only this file's.
let rig: ScheduledPassRig;
let temporal: DevServerHarness;
let isolated: IsolatedDatabase;
let taskQueue: string;
let scheduleId: string;
let started: string[];

beforeAll(async () => {
  rig = await startScheduledPassRig('supervisor');
  ({ temporal, isolated, taskQueue, scheduleId, started } = rig);
});
afterAll(() => rig?.close());

describe('the lifecycle supervisor schedule', () => {
  it('is created once, brought up to date when ensured again, and its passes start a missing lifecycle in the state Postgres holds', async () => {
    expect(await ensureLifecycleSupervisorSchedule(temporal.client, { taskQueue, scheduleId, intervalSeconds: 3600, defaultRetentionDays: 30 })).toBe('created');
    expect(await ensureLifecycleSupervisorSchedule(temporal.client, { taskQueue, scheduleId, intervalSeconds: 600, defaultRetentionDays: 45 })).toBe('updated');
    const schedule = temporal.client.schedule.getHandle(scheduleId);
    const description = await schedule.describe();
    expect(description.spec.intervals).toMatchObject([{ every: 600_000 }]);
    expect(description.action).toMatchObject({ type: 'startWorkflow', workflowType: 'superviseTenantLifecycles', args: [{ defaultRetentionDays: 45 }] });

    const suspended = await createActiveTenant(isolated.orm);
    await setTenantStatus(isolated.orm, suspended.tenantId, 'suspended');
    const terminated = await createActiveTenant(isolated.orm);
    await setTenantStatus(isolated.orm, terminated.tenantId, 'terminated');
    started.push(tenantLifecycleWorkflowId(suspended.tenantId));

    await schedule.trigger();
    let workflowId = '';
    await waitFor(async () => {
      workflowId = (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId ?? '';
      return workflowId !== '';
    });
    expect(await temporal.client.workflow.getHandle<typeof superviseTenantLifecycles>(workflowId).result()).toEqual({ checked: 1, restarted: 1 });

    const lifecycle = temporal.client.workflow.getHandle(tenantLifecycleWorkflowId(suspended.tenantId));
    expect((await lifecycle.describe()).status.name).toBe('RUNNING');
    expect(await lifecycle.query(lifecycleStateQuery)).toMatchObject({ tenantId: suspended.tenantId, state: 'suspended', offboarding: null });
    await expect(temporal.client.workflow.getHandle(tenantLifecycleWorkflowId(terminated.tenantId)).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it('restarts a lifecycle closed by hand while its offboarding runs with that offboarding carried, not a second retention wait', async () => {
    const tenant = await createActiveTenant(isolated.orm);
    const closed = await startLifecycle(temporal.client, taskQueue, tenant.tenantId);
    await closed.executeUpdate(softDeleteUpdate, { args: [operator('closing')] });
    await closed.terminate('closed by hand');
    // Offboarding under way, as an earlier run left it: on a queue no worker polls, so it stays running.
    const offboarding = await temporal.client.workflow.start('offboardTenant', {
      taskQueue: uniqueTaskQueue('nobody'),
      workflowId: offboardingWorkflowId(tenant.tenantId),
      args: [{ tenantId: tenant.tenantId, trigger: 'retention_expired', actor: 'system:retention', reason: null }],
    });
    started.push(offboarding.workflowId);

    const pass = await temporal.client.workflow.execute<typeof superviseTenantLifecycles>('superviseTenantLifecycles', {
      taskQueue,
      workflowId: uniqueSlug('supervisor-pass'),
      args: [{ defaultRetentionDays: 30 }],
    });
    expect(pass.restarted).toBeGreaterThanOrEqual(1);
    const restarted = temporal.client.workflow.getHandle<typeof tenantLifecycle>(tenantLifecycleWorkflowId(tenant.tenantId));
    // It finds the offboarding running and leaves the tenant to it, instead of waiting 30 days more open to a restore.
    expect(await restarted.result()).toMatchObject({ state: 'pending_deletion', offboarding: { trigger: 'retention_expired', actor: 'system:retention' } });
    expect((await restarted.describe()).runId).not.toBe(closed.firstExecutionRunId);
    expect((await offboarding.describe()).status.name).toBe('RUNNING');
  });
});
