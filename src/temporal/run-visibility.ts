import { isGrpcServiceError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { runIdOfWorkflowId } from './workflow-ids';

/** The run workflow's type: the name workflows/index.ts exports it under, which the worker registers. */
export const RUN_WORKFLOW_TYPE = 'runWorkflow';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const GRPC_UNIMPLEMENTED = 12;

/**
 * The tenant's runs that Temporal visibility lists as running, keyed by run id, with their workflow ids. It finds a run
 * whose opening write never landed, which the `run` table cannot. Visibility is eventually consistent: a run just
 * started or just ended may be missing or still listed, so a caller that needs "none left" lists again.
 * Null when the server has no list API at all (Temporal's Java time-skipping test server); every real server has one.
 */
export async function listRunningRunsOfTenant(client: Client, tenantId: string): Promise<Map<string, string> | null> {
  // The id goes into a query string: only a uuid, which cannot close the quote, is let in. No retry makes it one.
  if (!UUID.test(tenantId)) {
    throw ApplicationFailure.create({ type: 'InvalidTenantId', message: `not a tenant id (a uuid): ${JSON.stringify(tenantId)}`, nonRetryable: true });
  }
  const query = `TenantId = '${tenantId}' AND ExecutionStatus = 'Running' AND WorkflowType = '${RUN_WORKFLOW_TYPE}'`;
  const running = new Map<string, string>();
  try {
    for await (const execution of client.workflow.list({ query })) {
      // A run workflow started by hand under another id is still the tenant's: its workflow id stands in for a run id.
      running.set(runIdOfWorkflowId(execution.workflowId) ?? execution.workflowId, execution.workflowId);
    }
  } catch (error) {
    if (isUnimplemented(error)) return null;
    throw error;
  }
  return running;
}

const isUnimplemented = (error: unknown) =>
  (isGrpcServiceError(error) && error.code === GRPC_UNIMPLEMENTED) || (error instanceof Error && isGrpcServiceError(error.cause) && error.cause.code === GRPC_UNIMPLEMENTED);
