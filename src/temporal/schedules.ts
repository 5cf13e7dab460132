import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptionsAction, type ScheduleSpec } from '@temporalio/client';

export const RECONCILER_SCHEDULE_ID = 'run-audit-reconciler';
export const RECONCILER_WORKFLOW_ID = 'run-audit-reconciler';
export const LIFECYCLE_SUPERVISOR_SCHEDULE_ID = 'tenant-lifecycle-supervisor';
export const LIFECYCLE_SUPERVISOR_WORKFLOW_ID = 'tenant-lifecycle-supervisor';

export interface ScheduleOptions {
  taskQueue?: string;
  intervalSeconds?: number;
  /** Tests give their own, so they never touch the deployment's schedule. */
  scheduleId?: string;
}

export type ReconcilerScheduleOptions = ScheduleOptions;

export interface LifecycleSupervisorScheduleOptions extends ScheduleOptions {
  /** TENANT_RETENTION_DAYS: what a restarted lifecycle gives a soft delete that names no retention. */
  defaultRetentionDays: number;
}

/**
 * Creates a schedule, or brings an existing one to these settings: calling it at every start is safe. Overlaps are
 * skipped (one pass at a time) and missed passes are not caught up: the next pass sees everything anyway.
 */
async function ensureSchedule(client: Client, scheduleId: string, spec: ScheduleSpec, action: ScheduleOptionsAction): Promise<'created' | 'updated'> {
  try {
    await client.schedule.create({ scheduleId, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' } });
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec, action }));
  return 'updated';
}

const every = (seconds: number): ScheduleSpec => ({ intervals: [{ every: `${seconds} seconds` }] });

/** The run-audit reconciler: a pass every RECONCILER_INTERVAL_SECONDS. */
export async function ensureReconcilerSchedule(client: Client, options: ReconcilerScheduleOptions = {}): Promise<'created' | 'updated'> {
  const scheduleId = options.scheduleId ?? RECONCILER_SCHEDULE_ID;
  return ensureSchedule(client, scheduleId, every(options.intervalSeconds ?? 300), {
    type: 'startWorkflow',
    workflowType: 'reconcileRunAudits',
    taskQueue: options.taskQueue ?? 'control-plane',
    workflowId: scheduleId === RECONCILER_SCHEDULE_ID ? RECONCILER_WORKFLOW_ID : scheduleId,
    args: [{}],
    staticSummary: 'Reconcile run audit expectations against acks',
  });
}

/**
 * The lifecycle supervisor: every 5 minutes by default, so a tenant whose lifecycle workflow was closed gets it back
 * within minutes, and its retention timer fires at the deadline it already had.
 */
export async function ensureLifecycleSupervisorSchedule(client: Client, options: LifecycleSupervisorScheduleOptions): Promise<'created' | 'updated'> {
  const scheduleId = options.scheduleId ?? LIFECYCLE_SUPERVISOR_SCHEDULE_ID;
  return ensureSchedule(client, scheduleId, every(options.intervalSeconds ?? 300), {
    type: 'startWorkflow',
    workflowType: 'superviseTenantLifecycles',
    taskQueue: options.taskQueue ?? 'control-plane',
    workflowId: scheduleId === LIFECYCLE_SUPERVISOR_SCHEDULE_ID ? LIFECYCLE_SUPERVISOR_WORKFLOW_ID : scheduleId,
    args: [{ defaultRetentionDays: options.defaultRetentionDays }],
    staticSummary: 'Restart the lifecycle workflow of every tenant that has none running',
  });
}

export const RUN_RESERVATION_SWEEP_SCHEDULE_ID = 'run-reservation-sweep';

/**
 * The run-reservation sweep: every 5 minutes by default, so an admission slot held by a run that will never run (its
 * API process died before starting it) or never finish (its workflow ended outside the kernel) frees within minutes.
 */
export async function ensureRunReservationSweepSchedule(client: Client, options: { taskQueue: string; intervalSeconds?: number; scheduleId?: string }): Promise<'created' | 'updated'> {
  const scheduleId = options.scheduleId ?? RUN_RESERVATION_SWEEP_SCHEDULE_ID;
  return ensureSchedule(client, scheduleId, every(options.intervalSeconds ?? 300), {
    type: 'startWorkflow',
    workflowType: 'releaseStrandedRuns',
    taskQueue: options.taskQueue,
    workflowId: scheduleId,
    args: [{}],
    staticSummary: 'Free the admission slots of runs that never started or ended outside the kernel',
  });
}
