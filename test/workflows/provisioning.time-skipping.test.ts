import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { provisioningProgressQuery } from '../../src/contracts/provisioning';
import type { Orm } from '../../src/db/orm';
import { provisioningWorkflowId } from '../../src/temporal/workflow-ids';
import { findOrphans } from '../support/invariants';
import { provisionInput, tenantFootprint } from '../support/provisioning';
import { startWorker, testOrm, uniqueTaskQueue } from '../support/stack';
import { createTimeSkippingEnvironment } from '../support/time-skipping';
import { ActivityFaults, provisioningStepFault } from '../../tools/fixtures/activity-faults';

// On the Java time-skipping test server: proves the saga (and its search attribute upserts) runs there too.
let environment: TestWorkflowEnvironment;
let orm: Orm;
const taskQueue = uniqueTaskQueue('provisioning-ts');

beforeAll(async () => {
  environment = await createTimeSkippingEnvironment();
  orm = await testOrm();
});
afterAll(async () => {
  await environment?.teardown();
  await orm?.close(true);
});

describe('provisionTenant on the time-skipping server', () => {
  it('activates a tenant', async () => {
    const input = provisionInput();
    const worker = await startWorker({ connection: environment.nativeConnection, taskQueue, orm });
    const result = await worker.runUntil(
      environment.client.workflow.execute('provisionTenant', { taskQueue, workflowId: provisioningWorkflowId(input.slug), args: [input] }),
    );
    expect(result).toEqual({ tenantId: input.tenantId, slug: input.slug, status: 'active' });
    expect(await tenantFootprint(orm, input.tenantId, input.ownerEmail)).toMatchObject({ status: 'active', schemas: 1 });
  });

  it('rolls back fully when a step fails permanently and tags the saga with the failed step', async () => {
    const input = provisionInput();
    const faults = new ActivityFaults().add(provisioningStepFault(input.slug, 'activateTenant', 'permanent'));
    const worker = await startWorker({ connection: environment.nativeConnection, taskQueue, orm, activityInterceptors: [faults.interceptor] });
    const handle = await environment.client.workflow.start('provisionTenant', { taskQueue, workflowId: provisioningWorkflowId(input.slug), args: [input] });
    const progress = await worker.runUntil(async () => {
      await expect(handle.result()).rejects.toMatchObject({ cause: { type: 'InjectedFault' } });
      return handle.query(provisioningProgressQuery);
    });
    expect(progress.outcome).toBe('failed');
    // The upsert of a custom search attribute works on this server once it is registered.
    expect((await handle.describe()).searchAttributes.ProvisioningStep).toEqual(['activateTenant']);
    expect(await findOrphans(orm, { tenantIds: [input.tenantId], emails: [input.ownerEmail] })).toEqual([]);
  });
});
