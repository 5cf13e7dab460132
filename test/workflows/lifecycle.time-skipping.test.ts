import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { lifecycleStateQuery, restoreUpdate, softDeleteUpdate } from '../../src/contracts/lifecycle';
import type { Orm } from '../../src/db/orm';
import { lifecycleAudit, operator, startLifecycle, tenantRemains } from '../support/lifecycle';
import { createActiveTenant, seedRecord, tenantData } from '../support/runs';
import { uniqueTaskQueue } from '../support/stack';
import { startTimeSkippingRig, type TimeSkippingRig } from '../support/time-skipping';
import { waitFor } from '../support/wait';
import { DAY_MS } from '../../src/domain/duration';

// Retention is a durable timer: on the Java time-skipping server, days pass in moments.
let environment: TestWorkflowEnvironment;
let orm: Orm;
let rig: TimeSkippingRig;
const taskQueue = uniqueTaskQueue('lifecycle-ts');

beforeAll(async () => {
  rig = await startTimeSkippingRig(taskQueue);
  ({ environment, orm } = rig);
});
afterAll(() => rig?.close());

describe('tenant retention on the time-skipping server', () => {
  it('soft-delete, 30 days pass: the data is archived with a checksum, purged, and the tenant is terminated', async () => {
    const tenant = await createActiveTenant(orm);
    await seedRecord(orm, tenant.tenantId, 'profile', { plan: 'gold' });
    const handle = await startLifecycle(environment.client, taskQueue, tenant.tenantId);
    const deletedAt = (await environment.currentTimeMs()) as number;
    const answer = await handle.executeUpdate(softDeleteUpdate, { args: [operator('customer asked to close')] });
    expect(answer).toMatchObject({ action: 'softDelete', from: 'active', to: 'pending_deletion', offboarding: false });
    expect(Date.parse(answer.deletesAt!) - deletedAt).toBeGreaterThanOrEqual(30 * DAY_MS - 60_000);
    expect((await tenantRemains(orm, tenant.tenantId)).status).toBe('pending_deletion');

    const final = await handle.result();
    expect(final.state).toBe('terminated');
    expect((await environment.currentTimeMs()) - deletedAt).toBeGreaterThanOrEqual(30 * DAY_MS);
    const remains = await tenantRemains(orm, tenant.tenantId);
    expect(remains).toMatchObject({ status: 'terminated', schema: false, memberships: 0, billing: 0, liveApiKeys: 0 });
    expect(remains.archive?.checksumMatches).toBe(true);
    expect(remains.archive?.payload).toMatchObject({ tenantId: tenant.tenantId, records: [expect.objectContaining({ key: 'profile', value: { plan: 'gold' } })] });
    const actions = (await lifecycleAudit(orm, tenant.tenantId)).map((row) => row.action);
    expect(actions).toEqual([
      'lifecycle.soft_deleted',
      'offboarding.credentials_revoked',
      'offboarding.archived',
      'offboarding.purged',
      'lifecycle.terminated',
    ]);
  });

  it('restore on day 29 keeps everything, and the retention timer never fires afterwards', async () => {
    const tenant = await createActiveTenant(orm);
    await seedRecord(orm, tenant.tenantId, 'keep', 'me');
    const handle = await startLifecycle(environment.client, taskQueue, tenant.tenantId);
    await handle.executeUpdate(softDeleteUpdate, { args: [operator('closing')] });
    await environment.sleep('29 days');
    expect((await tenantRemains(orm, tenant.tenantId)).status).toBe('pending_deletion');
    const restored = await handle.executeUpdate(restoreUpdate, { args: [operator('changed their mind')] });
    expect(restored).toMatchObject({ from: 'pending_deletion', to: 'active', deletesAt: null });

    await environment.sleep('5 days');
    expect((await handle.query(lifecycleStateQuery)).state).toBe('active');
    const remains = await tenantRemains(orm, tenant.tenantId);
    expect(remains).toMatchObject({ status: 'active', schema: true, memberships: 1, billing: 1, archive: null });
    expect((await tenantData(orm, tenant.tenantId)).records).toEqual({ keep: 'me' });
  });

  it('a retention of 7 days fires at day 7, not before', async () => {
    const tenant = await createActiveTenant(orm);
    const handle = await startLifecycle(environment.client, taskQueue, tenant.tenantId, { defaultRetentionDays: 90 });
    const answer = await handle.executeUpdate(softDeleteUpdate, { args: [{ ...operator('short retention'), retentionDays: 7 }] });
    expect(Date.parse(answer.deletesAt!) - (await environment.currentTimeMs())).toBeLessThanOrEqual(7 * DAY_MS);

    await environment.sleep(6 * DAY_MS + 23 * 60 * 60 * 1000);
    expect((await tenantRemains(orm, tenant.tenantId)).status).toBe('pending_deletion');
    expect((await handle.query(lifecycleStateQuery)).offboarding).toBeNull();

    await environment.sleep(2 * 60 * 60 * 1000);
    await waitFor(async () => (await tenantRemains(orm, tenant.tenantId)).status === 'terminated');
    expect((await handle.result()).state).toBe('terminated');
    expect((await tenantRemains(orm, tenant.tenantId)).archive?.checksumMatches).toBe(true);
  });
});
