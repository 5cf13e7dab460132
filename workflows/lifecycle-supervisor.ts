import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { LifecycleSupervisorActivities, SuperviseLifecyclesInput } from '../activities/lifecycle-supervisor';

// A page describes (and perhaps starts) a hundred workflows: retried briefly, as the schedule runs the next pass anyway.
const supervisor = proxyActivities<LifecycleSupervisorActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5 },
});

export interface SupervisionSummary {
  checked: number;
  restarted: number;
}

export interface SuperviseTenantLifecyclesInput extends SuperviseLifecyclesInput {
  /** Carried across continue-as-new: the last tenant checked, and what the pass did so far. */
  resumeAfter?: string;
  soFar?: SupervisionSummary;
}

/** Continue-as-new past this many history events: a pass over many thousands of tenants stays a small history. */
const HISTORY_LIMIT = 1000;

/**
 * Started by the lifecycle-supervisor schedule: every tenant that is not terminated gets its lifecycle workflow back if
 * it has none running (closed by hand, or never started), with the state and retention deadline Postgres holds, so a
 * pending deletion is still reaped at its original deadline.
 */
export async function superviseTenantLifecycles(input: SuperviseTenantLifecyclesInput): Promise<SupervisionSummary> {
  const summary: SupervisionSummary = { ...(input.soFar ?? { checked: 0, restarted: 0 }) };
  let after = input.resumeAfter ?? null;
  do {
    const page = await supervisor.superviseLifecyclePage({ defaultRetentionDays: input.defaultRetentionDays, pageSize: input.pageSize, afterTenantId: after });
    summary.checked += page.checked;
    summary.restarted += page.restarted;
    after = page.lastTenantId;
    if (after !== null && (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > HISTORY_LIMIT)) {
      await continueAsNew<typeof superviseTenantLifecycles>({ ...input, resumeAfter: after, soFar: summary });
    }
  } while (after !== null);
  return summary;
}
