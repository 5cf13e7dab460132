import { proxyActivities } from '@temporalio/workflow';
import type { ReconcileInput, ReconcileSummary, RunReconcilerActivities } from '../activities/run-reconciler';

// One pass over unsettled runs; the schedule runs the next one, so a failed pass is retried only briefly.
const reconciler = proxyActivities<RunReconcilerActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5 },
});

/** Started by the run-audit-reconciler schedule: compares every unsettled run's expectations with its acks. */
export async function reconcileRunAudits(input: ReconcileInput = {}): Promise<ReconcileSummary> {
  return reconciler.reconcileRunAudits(input);
}
