import { ApplicationFailure } from '@temporalio/common';
import { createProvisioningActivities } from '../../activities/provisioning';
import type { StepContext } from '../../src/contracts/provisioning';
import type { Orm } from '../../src/db/orm';
import { FRESH_TENANT_FOOTPRINT, provisionInput, tenantFootprint } from '../support/provisioning';
import { testOrm } from '../support/stack';
import { runProvisioningSteps } from '../../tools/fixtures/provisioning';

let orm: Orm;
let activities: ReturnType<typeof createProvisioningActivities>;

beforeAll(async () => {
  orm = await testOrm();
  activities = createProvisioningActivities({ orm });
});
afterAll(() => orm.close(true));

const contextOf = (input: ReturnType<typeof provisionInput>): StepContext => ({ tenantId: input.tenantId, workflowId: `provision:${input.slug}` });

describe('provisioning activities', () => {
  it('run twice, every forward step changes nothing the second time', async () => {
    const input = provisionInput();
    await runProvisioningSteps(activities, input, contextOf(input));
    const once = await tenantFootprint(orm, input.tenantId, input.ownerEmail);
    await runProvisioningSteps(activities, input, contextOf(input));
    const twice = await tenantFootprint(orm, input.tenantId, input.ownerEmail);
    expect(once).toEqual(FRESH_TENANT_FOOTPRINT);
    expect(twice).toEqual(once);
  });

  it('opens the trial once and says its committed schedule on every attempt, for the trial timer', async () => {
    const input = provisionInput();
    const context = contextOf(input);
    await activities.reserveTenant({ ...context, slug: input.slug, orgName: input.orgName });
    const first = await activities.openTrialBilling(context);
    const retried = await activities.openTrialBilling(context);
    expect(first.subscriptionState).toBe('trial');
    expect(retried).toEqual(first);
    const [account] = await orm.em.fork().execute(`select trial_ends_at from billing_account where tenant_id = ?`, [input.tenantId]);
    expect(new Date(account.trial_ends_at).toISOString()).toBe(first.trialEndsAt);
  });

  it('compensations are safe for steps that never ran and change nothing', async () => {
    const input = provisionInput();
    const context = contextOf(input);
    for (const compensation of [activities.deactivateTenant, activities.resetOnboarding, activities.dropTenantSchema, activities.closeBilling, activities.removeOwner, activities.releaseTenant]) {
      await compensation(context);
    }
    const footprint = await tenantFootprint(orm, input.tenantId, input.ownerEmail);
    expect(footprint).toMatchObject({ status: null, users: 0, memberships: 0, billingAccounts: 0, schemas: 0 });
  });

  it('compensations in reverse order, run twice, remove everything the forward steps made', async () => {
    const input = provisionInput();
    const context = contextOf(input);
    await activities.reserveTenant({ ...context, slug: input.slug, orgName: input.orgName });
    await activities.createOwner({ ...context, email: input.ownerEmail, passwordHash: input.passwordHash });
    await activities.openTrialBilling(context);
    await activities.createTenantSchema(context);
    for (let round = 0; round < 2; round += 1) {
      await activities.dropTenantSchema(context);
      await activities.closeBilling(context);
      await activities.removeOwner(context);
      await activities.releaseTenant(context);
    }
    const footprint = await tenantFootprint(orm, input.tenantId, input.ownerEmail);
    expect(footprint).toMatchObject({ status: null, users: 0, memberships: 0, billingAccounts: 0, schemas: 0 });
  });

  it('refuses a slug held by another tenant as a non-retryable SlugTaken and leaves the holder alone', async () => {
    const holder = provisionInput();
    await runProvisioningSteps(activities, holder, contextOf(holder));
    const intruder = provisionInput({ slug: holder.slug });
    const attempt = activities.reserveTenant({ ...contextOf(intruder), slug: intruder.slug, orgName: intruder.orgName });
    await expect(attempt).rejects.toMatchObject({ type: 'SlugTaken', nonRetryable: true });
    await expect(attempt).rejects.toBeInstanceOf(ApplicationFailure);
    // The intruder's rollback must not touch the holder.
    await activities.releaseTenant(contextOf(intruder));
    expect((await tenantFootprint(orm, holder.tenantId, holder.ownerEmail)).status).toBe('active');
  });

  it('refuses an email that already owns another tenant as a non-retryable EmailRegistered', async () => {
    const first = provisionInput();
    await runProvisioningSteps(activities, first, contextOf(first));
    const second = provisionInput({ ownerEmail: first.ownerEmail.toUpperCase() });
    await activities.reserveTenant({ ...contextOf(second), slug: second.slug, orgName: second.orgName });
    await expect(
      activities.createOwner({ ...contextOf(second), email: second.ownerEmail, passwordHash: second.passwordHash }),
    ).rejects.toMatchObject({ type: 'EmailRegistered', nonRetryable: true });
    await activities.removeOwner(contextOf(second));
    const firstFootprint = await tenantFootprint(orm, first.tenantId, first.ownerEmail);
    expect(firstFootprint).toMatchObject({ users: 1, memberships: 1 });
  });
});
