import type { Client } from '@temporalio/client';
import { TENANT_ID } from '../temporal/search-attributes';
import { billingTrialWorkflowId } from '../temporal/workflow-ids';

/**
 * Starts (or finds) a tenant's trial timer from outside a workflow: for tenants provisioned before the saga started
 * it, or a trial whose timer is missing. A running timer is kept; a finished one may run again for a new trial.
 */
export async function startBillingTrial(client: Client, input: { tenantId: string; taskQueue: string }): Promise<string> {
  const workflowId = billingTrialWorkflowId(input.tenantId);
  await client.workflow.start('billingTrial', {
    taskQueue: input.taskQueue,
    workflowId,
    args: [{ tenantId: input.tenantId }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    typedSearchAttributes: [{ key: TENANT_ID, value: input.tenantId }],
    staticSummary: `Billing trial timer of tenant ${input.tenantId}`,
  });
  return workflowId;
}

/**
 * Starts the tenant's trial timer afresh for a trial an operator re-armed: a timer still waiting on the old end date
 * (or in grace) is terminated and a new one reads the new date. Running it again only restarts the same wait.
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
