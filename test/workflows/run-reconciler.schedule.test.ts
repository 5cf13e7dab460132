import { ensureReconcilerSchedule } from '../../src/temporal/schedules';
import type { reconcileRunAudits } from '../../workflows/reconciler';
import { type DevServerHarness, type DevServerWorker, startDevServerWorker, uniqueSlug, uniqueTaskQueue } from '../support/stack';
import { waitFor } from '../support/wait';

let temporal: DevServerHarness;
let rig: DevServerWorker;
const taskQueue = uniqueTaskQueue('reconciler');
const scheduleId = uniqueSlug('reconciler-schedule');

beforeAll(async () => {
  rig = await startDevServerWorker(taskQueue);
  ({ temporal } = rig);
});
afterAll(async () => {
  await temporal.client.schedule.getHandle(scheduleId).delete().catch(() => undefined);
  await rig.close();
});

describe('the reconciler schedule', () => {
  it('is created once, brought up to date when ensured again, and its runs reconcile', async () => {
    expect(await ensureReconcilerSchedule(temporal.client, { taskQueue, scheduleId, intervalSeconds: 3600 })).toBe('created');
    expect(await ensureReconcilerSchedule(temporal.client, { taskQueue, scheduleId, intervalSeconds: 600 })).toBe('updated');
    const schedule = temporal.client.schedule.getHandle(scheduleId);
    const description = await schedule.describe();
    expect(description.spec.intervals).toMatchObject([{ every: 600_000 }]);
    expect(description.action).toMatchObject({ type: 'startWorkflow', workflowType: 'reconcileRunAudits' });

    await schedule.trigger();
    let workflowId = '';
    await waitFor(async () => {
      const recent = (await schedule.describe()).info.recentActions;
      workflowId = recent[0]?.action.workflow.workflowId ?? '';
      return workflowId !== '';
    });
    const summary = await temporal.client.workflow.getHandle<typeof reconcileRunAudits>(workflowId).result();
    expect(summary).toMatchObject({ scannedRuns: expect.any(Number), open: expect.any(Object), detected: expect.any(Object) });
  });
});
