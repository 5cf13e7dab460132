import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptionsAction, type ScheduleSpec } from '@temporalio/client';

export const RECONCILER_SCHEDULE_ID = 'run-audit-reconciler';
export const RECONCILER_WORKFLOW_ID = 'run-audit-reconciler';

export interface ReconcilerScheduleOptions {
  taskQueue?: string;
  intervalSeconds?: number;
  /** Tests give their own, so they never touch the deployment's schedule. */
  scheduleId?: string;
}

/**
 * Creates the reconciler's schedule, or brings an existing one to these settings: calling it at every start is safe.
 * Overlaps are skipped (one pass at a time) and missed passes are not caught up: the next pass sees everything anyway.
 */
export async function ensureReconcilerSchedule(client: Client, options: ReconcilerScheduleOptions = {}): Promise<'created' | 'updated'> {
  const scheduleId = options.scheduleId ?? RECONCILER_SCHEDULE_ID;
  const spec: ScheduleSpec = { intervals: [{ every: `${options.intervalSeconds ?? 300} seconds` }] };
  const action: ScheduleOptionsAction = {
    type: 'startWorkflow',
    workflowType: 'reconcileRunAudits',
    taskQueue: options.taskQueue ?? 'control-plane',
    workflowId: scheduleId === RECONCILER_SCHEDULE_ID ? RECONCILER_WORKFLOW_ID : scheduleId,
    args: [{}],
    staticSummary: 'Reconcile run audit expectations against acks',
  };
  try {
    await client.schedule.create({
      scheduleId,
      spec,
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
    });
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec, action }));
  return 'updated';
}
