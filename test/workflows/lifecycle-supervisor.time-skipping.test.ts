import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { lifecycleStateQuery, softDeleteUpdate } from '../../src/contracts/lifecycle';
import { tenantLifecycleWorkflowId } from '../../src/temporal/workflow-ids';
import type { superviseTenantLifecycles } from '../../workflows/lifecycle-supervisor';
import type { tenantLifecycle } from '../../workflows/lifecycle';
import { isolatedDatabase, type IsolatedDatabase } from '../support/isolated-database';
import { lifecycleAudit, operator, startLifecycle, tenantRemains } from '../support/lifecycle';
import { createActiveTenant } from '../support/runs';
import { startWorker, uniqueSlug, uniqueTaskQueue } from '../support/stack';
import { createTimeSkippingEnvironment } from '../support/time-skipping';
import { waitFor } from '../support/wait';

// A database of its own: the supervisor starts a lifecycle for every tenant it finds, and must find only this file's.
let environment: TestWorkflowEnvironment;
let isolated: IsolatedDatabase;
let worker: Worker;
let workerRun: Promise<void>;
const taskQueue = uniqueTaskQueue('supervisor-ts');

beforeAll(async () => {
  environment = await createTimeSkippingEnvironment();
  isolated = await isolatedDatabase('lifecycle_supervisor_ts');
  worker = await startWorker({ connection: environment.nativeConnection, taskQueue, orm: isolated.orm });
  workerRun = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await workerRun;
  await environment?.teardown();
  await isolated?.drop();
});

/** A payload of a fetched history, as the default converter wrote it (JSON). */
const decoded = (payload: { data?: Uint8Array | null } | null | undefined) => JSON.parse(Buffer.from(payload!.data!).toString('utf8'));

/**
 * One supervisor pass, awaited by describe() rather than result(): waiting on a result lets the test server skip time,
 * and the restarted lifecycle's timer would fire before the assertions below could look at it.
 */
async function supervise(): Promise<unknown> {
  const handle = await environment.client.workflow.start<typeof superviseTenantLifecycles>('superviseTenantLifecycles', {
    taskQueue,
    workflowId: uniqueSlug('supervisor'),
    args: [{ defaultRetentionDays: 30 }],
  });
  await waitFor(async () => (await handle.describe()).status.name === 'COMPLETED');
  const { events } = await handle.fetchHistory();
  return decoded(events!.at(-1)!.workflowExecutionCompletedEventAttributes!.result!.payloads![0]);
}

describe('the lifecycle supervisor on the time-skipping server', () => {
  it('restarts a lifecycle closed by hand mid-retention, and the tenant is offboarded at its original deadline', async () => {
    const tenant = await createActiveTenant(isolated.orm);
    const first = await startLifecycle(environment.client, taskQueue, tenant.tenantId);
    const answer = await first.executeUpdate(softDeleteUpdate, { args: [operator('customer asked to close')] });
    const deadline = Date.parse(answer.deletesAt!);

    await environment.sleep('10 days');
    await first.terminate('closed by hand');
    expect((await tenantRemains(isolated.orm, tenant.tenantId)).status).toBe('pending_deletion');

    expect(await supervise()).toEqual({ checked: 1, restarted: 1 });
    // A second pass finds it running and leaves it alone.
    expect(await supervise()).toEqual({ checked: 1, restarted: 0 });

    const restarted = environment.client.workflow.getHandle<typeof tenantLifecycle>(tenantLifecycleWorkflowId(tenant.tenantId));
    expect((await restarted.describe()).runId).not.toBe(first.firstExecutionRunId);
    expect(await restarted.query(lifecycleStateQuery)).toMatchObject({ state: 'pending_deletion', deletesAt: answer.deletesAt, offboarding: null });
    const [started] = (await restarted.fetchHistory()).events!;
    expect(decoded(started!.workflowExecutionStartedEventAttributes!.input!.payloads![0])).toMatchObject({
      tenantId: tenant.tenantId,
      state: 'pending_deletion',
      carried: { deletesAt: answer.deletesAt, restoreTo: 'active', offboarding: null },
    });

    expect((await restarted.result()).state).toBe('terminated');
    // The retention timer fired at the deadline it had, not 30 days after the restart (the server's clock, in history).
    const fired = (await restarted.fetchHistory()).events!.find((event) => event.timerFiredEventAttributes);
    const firedAt = Number(fired!.eventTime!.seconds) * 1000 + Math.floor((fired!.eventTime!.nanos ?? 0) / 1e6);
    expect(firedAt).toBeGreaterThanOrEqual(deadline);
    expect(firedAt).toBeLessThan(deadline + 60_000);
    expect(await tenantRemains(isolated.orm, tenant.tenantId)).toMatchObject({ status: 'terminated', schema: false, memberships: 0 });
    const trail = await lifecycleAudit(isolated.orm, tenant.tenantId);
    expect(trail.map((row) => row.action)).toEqual([
      'lifecycle.soft_deleted',
      'lifecycle.workflow_restarted',
      'offboarding.credentials_revoked',
      'offboarding.archived',
      'offboarding.purged',
      'lifecycle.terminated',
    ]);
    expect(trail[1]).toMatchObject({ actor: 'system:lifecycle-supervisor', from_state: 'pending_deletion', to_state: 'pending_deletion' });
  });
});
