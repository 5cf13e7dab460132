/**
 * A write that fails on the data it carries fails the same way on every retry. These prove that such a failure ends
 * the workflow (failed, or rollback_failed with an incident), never leaves it retrying for ever or holding a name.
 */
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { provisioningProgressQuery } from '../../src/contracts/provisioning';
import type { Orm } from '../../src/db/orm';
import { provisioningWorkflowId } from '../../src/temporal/workflow-ids';
import { provisioningStepFault, removeOwnerViolatesAConstraint } from '../../tools/fixtures/activity-faults';
import { provisionInput, tenantFootprint } from '../support/provisioning';
import { createActiveTenant, runInput, runRow, startRun, tenantData } from '../support/runs';
import { startDevServerWorker, uniqueSlug, uniqueTaskQueue, type DevServerWorker } from '../support/stack';

let rig: DevServerWorker;
let orm: Orm;
let client: Client;
const taskQueue = uniqueTaskQueue('deterministic');

beforeAll(async () => {
  rig = await startDevServerWorker(taskQueue);
  ({ orm } = rig);
  client = rig.temporal.client;
});
afterAll(async () => {
  await rig.close();
});

const failureOf = async (result: Promise<unknown>) => {
  const error = await result.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(WorkflowFailedError);
  return (error as WorkflowFailedError).cause as ApplicationFailure;
};

const auditOf = async (tenantId: string) =>
  orm.em.fork().execute<Array<{ action: string; reason: string | null; details: Record<string, unknown> | null }>>(
    'select action, reason, details from audit_event where tenant_id = ? order by id',
    [tenantId],
  );

describe('deterministic database failures', () => {
  it('ends a signup whose name Postgres cannot store as failed, records why, and leaves the name free', async () => {
    const slug = uniqueSlug('nul');
    // As if the API's check were missing: the saga itself must still end.
    const input = provisionInput({ slug, orgName: 'Nul\u0000Byte' });
    const handle = await client.workflow.start('provisionTenant', { taskQueue, workflowId: provisioningWorkflowId(slug), args: [input] });

    const failure = await failureOf(handle.result());
    expect(failure.type).toBe('Internal');
    // Given up at once, not after the forward steps' eight attempts.
    expect((await handle.describe()).historyLength).toBeLessThan(40);
    expect(await handle.query(provisioningProgressQuery)).toMatchObject({ outcome: 'failed', failure: { step: 'reserveTenant', type: 'Internal' } });
    const audit = await auditOf(input.tenantId);
    expect(audit.map((row) => row.action)).toEqual(['provisioning.failed']);
    expect(audit[0]!.reason).toBe('database refused the write (SQLSTATE 08P01)');

    const retry = provisionInput({ slug });
    const again = await client.workflow.start('provisionTenant', {
      taskQueue,
      workflowId: provisioningWorkflowId(slug),
      args: [retry],
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
    });
    expect(await again.result()).toMatchObject({ tenantId: retry.tenantId, status: 'active' });
  });

  it('ends a saga whose compensation fails for good as rollback_failed, runs the other compensations and records an incident', async () => {
    const slug = uniqueSlug('undo');
    const input = provisionInput({ slug });
    rig.faults.add(provisioningStepFault(slug, 'createTenantSchema', 'permanent')).add(removeOwnerViolatesAConstraint(slug));
    const handle = await client.workflow.start('provisionTenant', { taskQueue, workflowId: provisioningWorkflowId(slug), args: [input] });

    const failure = await failureOf(handle.result());
    expect(failure.type).toBe('RollbackIncomplete');
    const progress = await handle.query(provisioningProgressQuery);
    expect(progress.outcome).toBe('rollback_failed');
    expect(Object.fromEntries(progress.steps.map((step) => [step.name, step.state]))).toEqual({
      reserveTenant: 'compensated',
      createOwner: 'compensation_failed',
      openTrialBilling: 'compensated',
      createTenantSchema: 'compensated',
      initOnboarding: 'pending',
      activateTenant: 'pending',
    });
    // The name is released: the tenant row is gone even though the owner's removal failed.
    const footprint = await tenantFootprint(orm, input.tenantId, input.ownerEmail);
    expect(footprint).toMatchObject({ status: null, billingAccounts: 0, schemas: 0 });
    const incident = (await auditOf(input.tenantId)).find((row) => row.action === 'provisioning.rollback_incomplete');
    expect(incident?.details).toEqual({ failedCompensations: [{ step: 'createOwner', cause: expect.stringMatching(/SQLSTATE 23503/) }] });
  });

  it('rolls back and ends FAILED a run whose record value Postgres cannot store', async () => {
    const tenant = await createActiveTenant(orm);
    const input = runInput(tenant.tenantId, [
      { kind: 'records.write', key: 'kept', value: { ok: true } },
      { kind: 'records.write', key: 'poison', value: { text: 'Nul\u0000Byte' } },
    ]);
    const handle = await startRun(client, taskQueue, input);

    const failure = await failureOf(handle.result());
    expect(failure.details?.[0]).toMatchObject({ type: 'StepFailed', stepIndex: 1, errorType: 'InvalidData' });
    expect(await runRow(orm, input.runId)).toMatchObject({ phase: 'FAILED', outcome: 'failed' });
    // The first write was compensated: the tenant's records are as before the run.
    expect((await tenantData(orm, tenant.tenantId)).records).toEqual({});
  });
});
