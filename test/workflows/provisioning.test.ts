import { WorkflowFailedError } from '@temporalio/client';
import { PROVISIONING_STEPS, provisioningProgressQuery, type ProvisionTenantInput } from '../../src/contracts/provisioning';
import type { Orm } from '../../src/db/orm';
import { emailVerificationQuery } from '../../src/contracts/accounts';
import { emailVerificationWorkflowId, provisioningWorkflowId } from '../../src/temporal/workflow-ids';
import { waitForMails } from '../support/mailpit';
import { ActivityFaults, provisioningStepFault } from '../../tools/fixtures/activity-faults';
import { findOrphans } from '../support/invariants';
import { FRESH_TENANT_FOOTPRINT, provisionInput, tenantFootprint } from '../support/provisioning';
import { type DevServerHarness, type DevServerWorker, startDevServerWorker, startWorker, uniqueTaskQueue } from '../support/stack';
import { waitFor } from '../support/wait';

// On the Temporal CLI dev server: the same server `npm start` runs.
let temporal: DevServerHarness;
let orm: Orm;
let rig: DevServerWorker;
const taskQueue = uniqueTaskQueue('provisioning');

beforeAll(async () => {
  rig = await startDevServerWorker(taskQueue);
  ({ temporal, orm } = rig);
});
afterAll(async () => {
  await rig.close();
});

const provision = (input: ProvisionTenantInput, workflowId = provisioningWorkflowId(input.slug)) =>
  temporal.client.workflow.start('provisionTenant', { taskQueue, workflowId, args: [input] });

describe('provisionTenant on the dev server', () => {
  it('creates an active tenant with owner, trial billing, schema, onboarding and an audit trail', async () => {
    const input = provisionInput();
    const handle = await provision(input);
    await expect(handle.result()).resolves.toEqual({ tenantId: input.tenantId, slug: input.slug, status: 'active' });
    expect(await tenantFootprint(orm, input.tenantId, input.ownerEmail)).toEqual(FRESH_TENANT_FOOTPRINT);
    const progress = await handle.query(provisioningProgressQuery);
    expect(progress.outcome).toBe('active');
    expect(progress.steps.every((step) => step.state === 'completed')).toBe(true);
  });

  it("starts the owner's email verification once the tenant is active, with the settings it was given", async () => {
    const input = provisionInput({ verification: { reminderAfterHours: 12, abandonAfterDays: 3 } });
    await provision(input).then((handle) => handle.result());
    const verification = temporal.client.workflow.getHandle(emailVerificationWorkflowId(input.tenantId));
    const [mail] = await waitForMails(input.ownerEmail, 1);
    expect(mail!.Subject).toBe(`Verify your email for ${input.orgName} on Control Plane`);
    const view = await verification.query(emailVerificationQuery);
    expect(view).toMatchObject({ outcome: 'pending', linksIssued: 1 });
    expect(Date.parse(view.deadline!) - Date.parse(view.reminderAt!)).toBe((3 * 24 - 12) * 3_600_000);
    await verification.terminate('test finished');
  });

  it.each(PROVISIONING_STEPS)('rolls back every step in reverse order when %s fails permanently, leaving nothing behind', async (step) => {
    const input = provisionInput();
    rig.faults.add(provisioningStepFault(input.slug, step, 'permanent'));
    const handle = await provision(input);
    const failure = await handle.result().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause).toMatchObject({ type: 'InjectedFault' });

    const footprint = await tenantFootprint(orm, input.tenantId, input.ownerEmail);
    expect(footprint).toMatchObject({ status: null, users: 0, memberships: 0, billingAccounts: 0, schemas: 0 });
    expect(await findOrphans(orm, { tenantIds: [input.tenantId], emails: [input.ownerEmail] })).toEqual([]);
    // The cause outlives the rows: the failure is in the audit trail, after every undo.
    expect(footprint.auditActions.at(-1)).toBe('provisioning.failed');

    const progress = await handle.query(provisioningProgressQuery);
    expect(progress.outcome).toBe('failed');
    expect(progress.failure).toEqual({ step, type: 'InjectedFault', message: expect.stringContaining('Try again later') });
    const index = PROVISIONING_STEPS.indexOf(step);
    expect(progress.steps.slice(0, index + 1).every((entry) => entry.state === 'compensated')).toBe(true);
    expect(progress.steps.slice(index + 1).every((entry) => entry.state === 'pending')).toBe(true);
  });

  it.each(PROVISIONING_STEPS)('completes exactly once when %s fails transiently twice', async (step) => {
    const input = provisionInput();
    rig.faults.add(provisioningStepFault(input.slug, step, 'transient', 2));
    await expect((await provision(input)).result()).resolves.toMatchObject({ status: 'active' });
    const footprint = await tenantFootprint(orm, input.tenantId, input.ownerEmail);
    expect(footprint).toMatchObject({ status: 'active', users: 1, memberships: 1, billingAccounts: 1, schemas: 1 });
    expect(new Set(footprint.auditActions).size).toBe(footprint.auditActions.length);
  });

  it('a second signup for a taken slug fails with SlugTaken and leaves the first tenant alone', async () => {
    const first = provisionInput();
    await (await provision(first)).result();
    const second = provisionInput({ slug: first.slug });
    const handle = await provision(second, `${provisioningWorkflowId(first.slug)}-rival`);
    await expect(handle.result()).rejects.toMatchObject({ cause: { type: 'SlugTaken' } });
    expect((await handle.query(provisioningProgressQuery)).failure?.message).toMatch(/name is taken/);
    expect(await tenantFootprint(orm, first.tenantId, first.ownerEmail)).toMatchObject({ status: 'active', users: 1, memberships: 1, billingAccounts: 1, schemas: 1 });
    expect(await findOrphans(orm, { tenantIds: [first.tenantId, second.tenantId], emails: [second.ownerEmail] })).toEqual([]);
  });

  it('finishes exactly once when its worker stops mid-saga and another takes over', async () => {
    const otherQueue = uniqueTaskQueue('handover');
    const input = provisionInput();
    // Both workers inject the same fault: attempts count across them, as they would for a real outage.
    const faults = new ActivityFaults().add(provisioningStepFault(input.slug, 'createTenantSchema', 'transient', 4));
    const first = await startWorker({ connection: temporal.connection, taskQueue: otherQueue, orm, activityInterceptors: [faults.interceptor] });
    const firstRun = first.run();
    const handle = await temporal.client.workflow.start('provisionTenant', { taskQueue: otherQueue, workflowId: provisioningWorkflowId(input.slug), args: [input] });
    await waitFor(async () => (await handle.query(provisioningProgressQuery)).currentStep === 'createTenantSchema');
    first.shutdown();
    await firstRun;

    const second = await startWorker({ connection: temporal.connection, taskQueue: otherQueue, orm, activityInterceptors: [faults.interceptor] });
    await second.runUntil(expect(handle.result()).resolves.toMatchObject({ status: 'active' }));
    const footprint = await tenantFootprint(orm, input.tenantId, input.ownerEmail);
    expect(footprint).toMatchObject({ status: 'active', users: 1, memberships: 1, billingAccounts: 1, schemas: 1 });
    expect(footprint.auditActions.filter((action) => action === 'tenant.activated')).toHaveLength(1);
  });
});
