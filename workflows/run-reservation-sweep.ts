import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { RunReservationActivities } from '../activities/run-reservations';

// A page describes a hundred workflows: retried briefly, as the schedule runs the next pass anyway.
const sweep = proxyActivities<RunReservationActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5 },
});

export interface StrandedRunsSummary {
  checked: number;
  released: number;
  closed: number;
}

export interface ReleaseStrandedRunsInput {
  /** Only runs admitted at least this long ago; 5 minutes when absent. */
  olderThanSeconds?: number;
  pageSize?: number;
  /** Carried across continue-as-new: the last run checked, and what the pass did so far. */
  resumeAfter?: string;
  soFar?: StrandedRunsSummary;
}

const HISTORY_LIMIT = 1000;
const DEFAULT_OLDER_THAN_SECONDS = 300;

/**
 * Started by the run-reservation schedule: every unfinished run admitted more than a few minutes ago whose workflow
 * never started gives its admission slot back, and one whose workflow ended outside the kernel is closed.
 */
export async function releaseStrandedRuns(input: ReleaseStrandedRunsInput): Promise<StrandedRunsSummary> {
  const summary: StrandedRunsSummary = { ...(input.soFar ?? { checked: 0, released: 0, closed: 0 }) };
  let after = input.resumeAfter ?? null;
  do {
    const page = await sweep.releaseStrandedRunsPage({ olderThanSeconds: input.olderThanSeconds ?? DEFAULT_OLDER_THAN_SECONDS, pageSize: input.pageSize, afterRunId: after });
    summary.checked += page.checked;
    summary.released += page.released;
    summary.closed += page.closed;
    after = page.lastRunId;
    if (after !== null && (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > HISTORY_LIMIT)) {
      await continueAsNew<typeof releaseStrandedRuns>({ ...input, resumeAfter: after, soFar: summary });
    }
  } while (after !== null);
  return summary;
}
