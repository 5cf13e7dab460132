import type { Client } from '@temporalio/client';
import { TENANT_ID } from '../temporal/search-attributes';
import { billingTrialWorkflowId } from '../temporal/workflow-ids';

/**
 * Starts the tenant's trial timer afresh whenever an operator sets billing to trial: for a re-armed trial, a timer still
 * waiting on the old end date (or in grace) is terminated and a new one reads the new date; a tenant that has no timer
 * (provisioned before the saga started one) gets one. Running it again only restarts the same wait.
 */
export async function restartBillingTrial(client: Client, input: { tenantId: string; taskQueue: string }): Promise<string> {
  const workflowId = billingTrialWorkflowId(input.tenantId);
  await client.workflow.start('billingTrial', {
    taskQueue: input.taskQueue,
    workflowId,
    args: [{ tenantId: input.tenantId }],
    workflowIdConflictPolicy: 'TERMINATE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    typedSearchAttributes: [{ key: TENANT_ID, value: input.tenantId }],
    staticSummary: `Billing trial timer of tenant ${input.tenantId}`,
  });
  return workflowId;
}
