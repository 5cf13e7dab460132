import { patched, proxyActivities } from '@temporalio/workflow';
import type { ReconcileInput, ReconcileSummary, RunReconcilerActivities } from '../activities/run-reconciler';

// One batch per attempt; the schedule runs the next pass, so a failed batch is retried only briefly.
const reconciler = proxyActivities<RunReconcilerActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5 },
});

/**
 * Batches one pass examines at most (20,000 runs at the default batch size): its history stays small, and the cursor
 * in Postgres hands the rest of a longer sweep to the next pass.
 */
const MAX_BATCHES_PER_PASS = 40;

const sumByKind = (a: ReconcileSummary['open'], b: ReconcileSummary['open']): ReconcileSummary['open'] => ({
  missing: a.missing + b.missing,
  drift: a.drift + b.drift,
  stale: a.stale + b.stale,
});

const combined = (soFar: ReconcileSummary, batch: ReconcileSummary): ReconcileSummary => ({
  scannedRuns: soFar.scannedRuns + batch.scannedRuns,
  settledRuns: soFar.settledRuns + batch.settledRuns,
  settledWithFindings: soFar.settledWithFindings + batch.settledWithFindings,
  agedOutRuns: soFar.agedOutRuns + batch.agedOutRuns,
  sweepComplete: batch.sweepComplete,
  open: sumByKind(soFar.open, batch.open),
  detected: sumByKind(soFar.detected, batch.detected),
});

/**
 * Started by the run-audit-reconciler schedule: examines unsettled runs batch after batch from where the last pass
 * stopped, until the sweep reaches the newest run, so every unsettled run is examined whatever the backlog.
 */
export async function reconcileRunAudits(input: ReconcileInput = {}): Promise<ReconcileSummary> {
  // A pass started before the cursor examined one batch of the oldest runs, and replays that way.
  if (!patched('reconciler-sweeps-backlog')) return reconciler.reconcileRunAudits(input);
  let pass = await reconciler.reconcileRunAudits(input);
  for (let batches = 1; batches < MAX_BATCHES_PER_PASS && !pass.sweepComplete; batches += 1) {
    pass = combined(pass, await reconciler.reconcileRunAudits(input));
  }
  return pass;
}
