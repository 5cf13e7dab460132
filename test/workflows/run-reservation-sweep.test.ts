import { openRunRecords } from '../../src/db/run-opening';
import { createMetrics } from '../../src/observability/metrics';
import { readRunCounts } from '../../src/services/run-admission';
import { ensureRunReservationSweepSchedule } from '../../src/temporal/schedules';
import { runWorkflowId } from '../../src/temporal/workflow-ids';
import type { releaseStrandedRuns } from '../../workflows/run-reservation-sweep';
import type { IsolatedDatabase } from '../support/isolated-database';
import { startScheduledPassRig, type ScheduledPassRig } from '../support/scheduled-pass';
import { createActiveTenant, runInput, runRow, startRun } from '../support/runs';
import { uniqueSlug, type DevServerHarness } from '../support/stack';
import { waitFor } from '../support/wait';

// A database of its own: the sweep acts on every unfinished run it finds, and must find only this file's.
let rig: ScheduledPassRig;
let temporal: DevServerHarness;
let isolated: IsolatedDatabase;
let taskQueue: string;
let scheduleId: string;
let started: string[];
const metrics = createMetrics();

beforeAll(async () => {
  rig = await startScheduledPassRig('reservation-sweep', { metrics });
  ({ temporal, isolated, taskQueue, scheduleId, started } = rig);
});
afterAll(() => rig?.close());

const longWait = [{ kind: 'wait' as const, duration: '1h' }];

/** As if the run had been admitted ten minutes ago. */
const admittedLongAgo = (runId: string) => isolated.orm.em.fork().execute(`update run set created_at = now() - interval '10 minutes' where id = ?`, [runId]);

/** What the API commits before it starts the workflow: the reservation, here with no start after it (the API died). */
async function reserveWithoutStarting(tenantId: string): Promise<string> {
  const input = runInput(tenantId, longWait);
  await isolated.orm.em.fork().transactional((em) => openRunRecords(em, { ...input, workflowId: runWorkflowId(input.runId) }, { now: new Date() }));
  return input.runId;
}

async function startedRun(tenantId: string): Promise<string> {
  const input = runInput(tenantId, longWait);
  started.push(runWorkflowId(input.runId));
  await startRun(temporal.client, taskQueue, input);
  await waitFor(async () => (await runRow(isolated.orm, input.runId))?.phase === 'EXECUTING', { timeoutMs: 30_000 });
  return input.runId;
}

const auditActions = async (runId: string) =>
  (await isolated.orm.em.fork().execute<Array<{ action: string }>>(`select action from audit_event where entity_id = ? order by id`, [runId])).map((row) => row.action);

describe('the run-reservation sweep', () => {
  it('frees the slot of a run whose workflow never started and closes one ended outside the kernel, and leaves live and fresh ones be', async () => {
    const tenant = await createActiveTenant(isolated.orm);
    const stranded = await reserveWithoutStarting(tenant.tenantId);
    await admittedLongAgo(stranded);
    const fresh = await reserveWithoutStarting(tenant.tenantId);
    const terminatedByHand = await startedRun(tenant.tenantId);
    await temporal.client.workflow.getHandle(runWorkflowId(terminatedByHand)).terminate('ended in the Web UI');
    await admittedLongAgo(terminatedByHand);
    // As if the reconciler had aged it out unfinished: closing it must reopen its audit.
    await isolated.orm.em.fork().execute(`update run set audit_settled_at = now() where id = ?`, [terminatedByHand]);
    const live = await startedRun(tenant.tenantId);
    await admittedLongAgo(live);
    expect((await readRunCounts(isolated.orm.em.fork(), tenant.tenantId)).inFlight).toBe(4);

    const summary = await temporal.client.workflow.execute<typeof releaseStrandedRuns>('releaseStrandedRuns', {
      taskQueue,
      workflowId: uniqueSlug('sweep'),
      args: [{ olderThanSeconds: 300, pageSize: 2 }],
    });
    expect(summary).toEqual({ checked: 3, released: 1, closed: 1 });

    expect(await runRow(isolated.orm, stranded)).toBeFalsy();
    const expectations = await isolated.orm.em.fork().execute(`select 1 from run_expectation where run_id = ?`, [stranded]);
    expect(expectations).toHaveLength(0);
    expect(await auditActions(stranded)).toEqual(['run.created', 'run.reservation_released']);

    const closed = await runRow(isolated.orm, terminatedByHand);
    expect(closed).toMatchObject({ phase: 'FAILED', outcome: 'failed' });
    expect(closed?.cause).toMatchObject({ type: 'ClosedOutsideKernel' });
    expect(await auditActions(terminatedByHand)).toContain('run.closed_outside_kernel');
    const [settlement] = await isolated.orm.em.fork().execute(`select audit_settled_at from run where id = ?`, [terminatedByHand]);
    expect(settlement).toEqual({ audit_settled_at: null });

    expect((await runRow(isolated.orm, live))?.phase).toBe('EXECUTING');
    expect((await runRow(isolated.orm, fresh))?.phase).toBe('CREATED');
    expect((await readRunCounts(isolated.orm.em.fork(), tenant.tenantId)).inFlight).toBe(2);
    const released = await metrics.registry.getSingleMetricAsString('run_admissions_released_total');
    expect(released).toContain('run_admissions_released_total{reason="never_started"} 1');
    expect(released).toContain('run_admissions_released_total{reason="closed_outside_kernel"} 1');

    // A second pass finds nothing more to do.
    const again = await temporal.client.workflow.execute<typeof releaseStrandedRuns>('releaseStrandedRuns', { taskQueue, workflowId: uniqueSlug('sweep'), args: [{}] });
    expect(again).toEqual({ checked: 1, released: 0, closed: 0 });
  });

  it('runs on a schedule that is created once and brought up to date when ensured again', async () => {
    expect(await ensureRunReservationSweepSchedule(temporal.client, { taskQueue, scheduleId, intervalSeconds: 3600 })).toBe('created');
    expect(await ensureRunReservationSweepSchedule(temporal.client, { taskQueue, scheduleId, intervalSeconds: 600 })).toBe('updated');
    const schedule = temporal.client.schedule.getHandle(scheduleId);
    const description = await schedule.describe();
    expect(description.spec.intervals).toMatchObject([{ every: 600_000 }]);
    expect(description.action).toMatchObject({ type: 'startWorkflow', workflowType: 'releaseStrandedRuns' });
    await schedule.trigger();
    let workflowId = '';
    await waitFor(async () => {
      workflowId = (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId ?? '';
      return workflowId !== '';
    });
    expect(await temporal.client.workflow.getHandle<typeof releaseStrandedRuns>(workflowId).result()).toMatchObject({ released: 0, closed: 0 });
  });
});
