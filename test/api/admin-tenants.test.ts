/**
 * Operators steering a tenant's lifecycle through the real app: each request goes through the tenant's lifecycle
 * workflow on the Temporal dev server, whose activities change real Postgres.
 */
import { createHash } from 'node:crypto';
import type { Worker } from '@temporalio/worker';
import request from 'supertest';
import type { Orm } from '../../src/db/orm';
import { tenantSchemaExists } from '../../src/db/tenant-schema';
import { MAX_RETENTION_DAYS, SYSTEM_TENANT_ID } from '../../src/domain/lifecycle';
import { tenantSchemaName } from '../../src/domain/tenant-status';
import { offboardingWorkflowId, tenantLifecycleWorkflowId } from '../../src/temporal/workflow-ids';
import { bearer, buildTestApp, OPERATORS, tenantWorld, type TestApp } from '../support/auth';
import { createActiveTenant, seedRecord } from '../support/runs';
import { connectToDevServer, startWorker, testOrm, uniqueTaskQueue, type DevServerHarness } from '../support/stack';
import { waitFor } from '../support/wait';
import { DAY_MS } from '../../src/domain/duration';

let orm: Orm;
let subject: TestApp;
let temporal: DevServerHarness;
let worker: Worker;
let workerRun: Promise<void>;

beforeAll(async () => {
  orm = await testOrm();
  const taskQueue = uniqueTaskQueue('admin-tenants');
  subject = await buildTestApp(orm, { env: { TEMPORAL_TASK_QUEUE: taskQueue } });
  temporal = await connectToDevServer();
  worker = await startWorker({ connection: temporal.connection, taskQueue, orm });
  workerRun = worker.run();
});
afterAll(async () => {
  worker.shutdown();
  await workerRun;
  await temporal.close();
  await subject.close();
  await orm.close(true);
});

const founder = bearer(OPERATORS.founder.token);
const ops = bearer(OPERATORS.ops.token);
const FOUNDER_ACTOR = `operator:${OPERATORS.founder.name}`;
const OPS_ACTOR = `operator:${OPERATORS.ops.name}`;
const UNKNOWN_TENANT = '00000000-0000-4000-8000-00000000dead';

const tenantPath = (tenantId: string) => `/api/v1/admin/tenants/${tenantId}`;
type Change = 'suspend' | 'unsuspend' | 'restore' | 'terminate' | 'force-complete';
const change = (tenantId: string, what: Change, credential: Record<string, string>, body: object = { reason: `${what} by test` }) =>
  request(subject.app).post(`${tenantPath(tenantId)}/${what}`).set(credential).send(body);
const softDelete = (tenantId: string, body: object, credential: Record<string, string> = ops) => request(subject.app).delete(tenantPath(tenantId)).set(credential).send(body);
const view = (tenantId: string) => request(subject.app).get(tenantPath(tenantId)).set(ops);
const stalled = (query: string) => request(subject.app).get(`/api/v1/admin/watch/stalled-onboardings?${query}`).set(ops);

async function tenantRow(tenantId: string) {
  const rows = await orm.em.fork().execute<Array<{ status: string; onboarding_state: string | null }>>('select status, onboarding_state from tenant where id = ?', [tenantId]);
  return rows[0];
}
const statusOf = async (tenantId: string) => (await tenantRow(tenantId))?.status;

async function auditRows(tenantId: string, actions: string[]) {
  return orm.em
    .fork()
    .execute<Array<{ action: string; actor: string; from_state: string | null; to_state: string | null; reason: string | null; correlation_id: string | null }>>(
      'select action, actor, from_state, to_state, reason, correlation_id from audit_event where tenant_id = ? and action in (?) order by id',
      [tenantId, actions],
    );
}

function expectProblem(response: request.Response, status: number) {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
  expect(response.body.status).toBe(status);
}

function expectRefused(response: request.Response, reason: string) {
  expectProblem(response, 409);
  expect(response.body).toMatchObject({ title: 'Transition refused', reason, detail: expect.any(String) });
}

function expectFieldError(response: request.Response, path: string) {
  expectProblem(response, 400);
  expect(response.body.errors).toEqual(expect.arrayContaining([{ path, message: expect.any(String) }]));
}

describe('admin tenant lifecycle API', () => {
  it('suspends then unsuspends a tenant: Postgres follows, each change is audited with operator, reason and workflow, and the view shows it', async () => {
    const { tenantId } = await createActiveTenant(orm);
    const bystander = await createActiveTenant(orm);
    const bystanderBefore = await tenantWorld(orm, [bystander.tenantId]);

    const suspended = await change(tenantId, 'suspend', ops, { reason: 'invoice 17 unpaid' });
    expect(suspended.status).toBe(200);
    expect(suspended.headers.location).toBe(tenantPath(tenantId));
    expect(suspended.body).toEqual({ tenantId, action: 'suspend', from: 'active', to: 'suspended', deletesAt: null, offboarding: false });
    expect(await statusOf(tenantId)).toBe('suspended');

    const unsuspended = await change(tenantId, 'unsuspend', ops, { reason: 'invoice 17 paid' });
    expect(unsuspended.status).toBe(200);
    expect(unsuspended.body).toEqual({ tenantId, action: 'unsuspend', from: 'suspended', to: 'active', deletesAt: null, offboarding: false });
    expect(await statusOf(tenantId)).toBe('active');

    const workflowId = tenantLifecycleWorkflowId(tenantId);
    expect(workflowId).toBe(`tenant:${tenantId}`);
    expect(await auditRows(tenantId, ['lifecycle.suspended', 'lifecycle.unsuspended'])).toEqual([
      { action: 'lifecycle.suspended', actor: OPS_ACTOR, from_state: 'active', to_state: 'suspended', reason: 'invoice 17 unpaid', correlation_id: workflowId },
      { action: 'lifecycle.unsuspended', actor: OPS_ACTOR, from_state: 'suspended', to_state: 'active', reason: 'invoice 17 paid', correlation_id: workflowId },
    ]);

    const shown = await view(tenantId);
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({
      tenantId,
      state: 'active',
      onboarding: { state: 'provisioned', since: expect.any(String) },
      lifecycle: { tenantId, state: 'active', deletesAt: null, offboarding: null, transitionCount: 2 },
    });
    expect(shown.body.lifecycle.recent).toEqual([
      { action: 'suspend', from: 'active', to: 'suspended', actor: OPS_ACTOR, reason: 'invoice 17 unpaid', at: expect.any(String) },
      { action: 'unsuspend', from: 'suspended', to: 'active', actor: OPS_ACTOR, reason: 'invoice 17 paid', at: expect.any(String) },
    ]);
    const lifecycleHistory = shown.body.history.filter((entry: { action: string }) => entry.action.startsWith('lifecycle.'));
    // Newest first.
    expect(lifecycleHistory).toEqual([
      { action: 'lifecycle.unsuspended', from: 'suspended', to: 'active', actor: OPS_ACTOR, reason: 'invoice 17 paid', at: expect.any(String), workflowId },
      { action: 'lifecycle.suspended', from: 'active', to: 'suspended', actor: OPS_ACTOR, reason: 'invoice 17 unpaid', at: expect.any(String), workflowId },
    ]);
    expect(await tenantWorld(orm, [bystander.tenantId])).toEqual(bystanderBefore);
  });

  it('refuses a transition the current state does not allow with 409 naming why, and changes nothing', async () => {
    const { tenantId } = await createActiveTenant(orm);
    let before = await tenantWorld(orm, [tenantId]);
    expectRefused(await change(tenantId, 'unsuspend', ops), 'TransitionNotAllowed');
    expectRefused(await change(tenantId, 'restore', ops), 'TransitionNotAllowed');
    expect(await tenantWorld(orm, [tenantId])).toEqual(before);

    expect((await change(tenantId, 'suspend', ops)).status).toBe(200);
    before = await tenantWorld(orm, [tenantId]);
    expectRefused(await change(tenantId, 'suspend', ops), 'TransitionNotAllowed');
    expectRefused(await change(tenantId, 'restore', ops), 'TransitionNotAllowed');
    expect(await tenantWorld(orm, [tenantId])).toEqual(before);
    expect((await view(tenantId)).body.lifecycle).toMatchObject({ state: 'suspended', transitionCount: 1 });
  });

  it('answers 404 for an unknown tenant and 400 naming the field for a malformed id or body, changing nothing', async () => {
    const { tenantId } = await createActiveTenant(orm);
    const before = await tenantWorld(orm, [tenantId]);

    expectProblem(await view(UNKNOWN_TENANT), 404);
    expectProblem(await change(UNKNOWN_TENANT, 'suspend', ops), 404);
    expectProblem(await change(UNKNOWN_TENANT, 'terminate', founder), 404);
    expectProblem(await softDelete(UNKNOWN_TENANT, { reason: 'gone' }), 404);

    expectFieldError(await view('not-a-uuid'), 'tenantId');
    expectFieldError(await change('not-a-uuid', 'suspend', ops), 'tenantId');
    expectFieldError(await softDelete('not-a-uuid', { reason: 'gone' }), 'tenantId');

    expectFieldError(await change(tenantId, 'suspend', ops, {}), 'reason');
    expectFieldError(await change(tenantId, 'suspend', ops, { reason: '   ' }), 'reason');
    expectFieldError(await softDelete(tenantId, {}), 'reason');
    const unknownField = await change(tenantId, 'suspend', ops, { reason: 'x', force: true });
    expectFieldError(unknownField, 'force');
    expect(unknownField.body.errors).toContainEqual({ path: 'force', message: 'is not a known field' });
    for (const retentionDays of [0, 5000, MAX_RETENTION_DAYS + 1, 1.5, '30']) {
      expectFieldError(await softDelete(tenantId, { reason: 'gone', retentionDays }), 'retentionDays');
    }

    expect(await statusOf(tenantId)).toBe('active');
    expect(await tenantWorld(orm, [tenantId])).toEqual(before);
  });

  it('keeps terminate and force-complete to founders: ops get 403, no token gets 401, and only the founder changes anything', async () => {
    const { tenantId } = await createActiveTenant(orm);
    const before = await tenantWorld(orm, [tenantId]);

    expectProblem(await change(tenantId, 'terminate', ops), 403);
    expectProblem(await change(tenantId, 'force-complete', ops), 403);
    for (const what of ['suspend', 'terminate', 'force-complete'] as const) {
      const anonymous = await change(tenantId, what, {});
      expectProblem(anonymous, 401);
      expect(anonymous.headers['www-authenticate']).toBeDefined();
    }
    expectProblem(await request(subject.app).get(tenantPath(tenantId)), 401);
    expectProblem(await softDelete(tenantId, { reason: 'x' }, {}), 401);
    expect(await tenantWorld(orm, [tenantId])).toEqual(before);

    const forced = await change(tenantId, 'force-complete', founder, { reason: 'founder override' });
    expect(forced.status).toBe(200);
    expect((await tenantRow(tenantId))?.onboarding_state).toBe('complete');
  });

  it('protects the system tenant: suspend, soft delete and terminate answer 409 SystemTenantProtected and it stays active', async () => {
    // The seeded id has version nibble 0 (not an RFC 9562 UUID): the routes must still accept it, or the guard is never reached.
    const shown = await view(SYSTEM_TENANT_ID);
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ tenantId: SYSTEM_TENANT_ID, state: 'active' });
    const before = await tenantWorld(orm, [SYSTEM_TENANT_ID]);
    expect(before.tenants).toEqual([{ id: SYSTEM_TENANT_ID, status: 'active', onboarding_state: 'complete' }]);

    expectRefused(await change(SYSTEM_TENANT_ID, 'suspend', ops), 'SystemTenantProtected');
    expectRefused(await softDelete(SYSTEM_TENANT_ID, { reason: 'tidy up', retentionDays: 1 }, founder), 'SystemTenantProtected');
    expectRefused(await change(SYSTEM_TENANT_ID, 'terminate', founder), 'SystemTenantProtected');

    expect(await statusOf(SYSTEM_TENANT_ID)).toBe('active');
    expect(await tenantWorld(orm, [SYSTEM_TENANT_ID])).toEqual(before);
  });

  it('soft-deletes with DELETE (202, deletesAt about retentionDays ahead, pending deletion) and restore brings the tenant back to active', async () => {
    const { tenantId } = await createActiveTenant(orm);

    const requestedAt = Date.now();
    const deleted = await softDelete(tenantId, { reason: 'customer asked', retentionDays: 7 });
    expect(deleted.status).toBe(202);
    expect(deleted.headers.location).toBe(tenantPath(tenantId));
    expect(deleted.body).toEqual({ tenantId, action: 'softDelete', from: 'active', to: 'pending_deletion', deletesAt: expect.any(String), offboarding: false });
    const deletesAt = Date.parse(deleted.body.deletesAt);
    expect(deletesAt).toBeGreaterThanOrEqual(requestedAt + 7 * DAY_MS - 60_000);
    expect(deletesAt).toBeLessThanOrEqual(Date.now() + 7 * DAY_MS + 60_000);
    expect(await statusOf(tenantId)).toBe('pending_deletion');

    const pending = await view(tenantId);
    expect(pending.body).toMatchObject({ state: 'pending_deletion', lifecycle: { state: 'pending_deletion', deletesAt: deleted.body.deletesAt, offboarding: null } });

    const restored = await change(tenantId, 'restore', ops, { reason: 'customer changed their mind' });
    expect(restored.status).toBe(200);
    expect(restored.body).toEqual({ tenantId, action: 'restore', from: 'pending_deletion', to: 'active', deletesAt: null, offboarding: false });
    expect(await statusOf(tenantId)).toBe('active');
    expect((await view(tenantId)).body).toMatchObject({ state: 'active', lifecycle: { state: 'active', deletesAt: null } });

    expect(await auditRows(tenantId, ['lifecycle.soft_deleted', 'lifecycle.restored'])).toEqual([
      { action: 'lifecycle.soft_deleted', actor: OPS_ACTOR, from_state: 'active', to_state: 'pending_deletion', reason: 'customer asked', correlation_id: `tenant:${tenantId}` },
      { action: 'lifecycle.restored', actor: OPS_ACTOR, from_state: 'pending_deletion', to_state: 'active', reason: 'customer changed their mind', correlation_id: `tenant:${tenantId}` },
    ]);
  });

  it('soft-deletes with the configured retention when the request names none, and restores a suspended tenant to suspended', async () => {
    const { tenantId } = await createActiveTenant(orm);
    expect((await change(tenantId, 'suspend', ops)).status).toBe(200);

    const requestedAt = Date.now();
    const deleted = await softDelete(tenantId, { reason: 'no retention named' });
    expect(deleted.status).toBe(202);
    expect(deleted.body).toMatchObject({ from: 'suspended', to: 'pending_deletion' });
    const retentionMs = subject.config.TENANT_RETENTION_DAYS * DAY_MS;
    expect(Date.parse(deleted.body.deletesAt)).toBeGreaterThanOrEqual(requestedAt + retentionMs - 60_000);
    expect(Date.parse(deleted.body.deletesAt)).toBeLessThanOrEqual(Date.now() + retentionMs + 60_000);

    const restored = await change(tenantId, 'restore', ops);
    expect(restored.body).toMatchObject({ from: 'pending_deletion', to: 'suspended' });
    expect(await statusOf(tenantId)).toBe('suspended');
  });

  it('terminates a tenant (202), offboards it (schema dropped, checksummed archive) and then refuses every transition with TenantTerminated, writing nothing', async () => {
    const { tenantId } = await createActiveTenant(orm);
    await seedRecord(orm, tenantId, 'contract', { signed: true });

    const terminated = await change(tenantId, 'terminate', founder, { reason: 'fraud confirmed' });
    expect(terminated.status).toBe(202);
    expect(terminated.body).toEqual({ tenantId, action: 'terminate', from: 'active', to: 'pending_deletion', deletesAt: null, offboarding: true });

    await waitFor(async () => (await statusOf(tenantId)) === 'terminated', { timeoutMs: 60_000 });
    const em = orm.em.fork();
    expect(await tenantSchemaExists(em, tenantId)).toBe(false);
    const schemas = await em.execute('select schema_name from information_schema.schemata where schema_name = ?', [`tenant_${tenantId.replace(/-/g, '')}`]);
    expect(schemas).toEqual([]);
    expect(tenantSchemaName(tenantId)).toBe(`tenant_${tenantId.replace(/-/g, '')}`);

    const archives = await em.execute<Array<{ payload: string; checksum: string; byte_size: number }>>('select payload, checksum, byte_size from tenant_archive where tenant_id = ?', [tenantId]);
    expect(archives).toHaveLength(1);
    const archive = archives[0]!;
    expect(archive.checksum).toBe(createHash('sha256').update(archive.payload).digest('hex'));
    expect(archive.byte_size).toBe(Buffer.byteLength(archive.payload));
    expect(JSON.parse(archive.payload)).toMatchObject({ tenantId, records: [{ key: 'contract', value: { signed: true } }] });

    const trail = await auditRows(tenantId, ['lifecycle.terminate_requested', 'lifecycle.terminated']);
    expect(trail).toEqual([
      { action: 'lifecycle.terminate_requested', actor: FOUNDER_ACTOR, from_state: 'active', to_state: 'pending_deletion', reason: 'fraud confirmed', correlation_id: `tenant:${tenantId}` },
      { action: 'lifecycle.terminated', actor: FOUNDER_ACTOR, from_state: 'pending_deletion', to_state: 'terminated', reason: 'fraud confirmed', correlation_id: offboardingWorkflowId(tenantId) },
    ]);

    const before = await tenantWorld(orm, [tenantId]);
    expectRefused(await change(tenantId, 'suspend', ops), 'TenantTerminated');
    expectRefused(await change(tenantId, 'unsuspend', ops), 'TenantTerminated');
    expectRefused(await change(tenantId, 'restore', ops), 'TenantTerminated');
    expectRefused(await softDelete(tenantId, { reason: 'again' }), 'TenantTerminated');
    expectRefused(await change(tenantId, 'terminate', founder), 'TenantTerminated');
    expectRefused(await change(tenantId, 'force-complete', founder), 'TenantTerminated');
    expect(await tenantWorld(orm, [tenantId])).toEqual(before);
    expect(await statusOf(tenantId)).toBe('terminated');
  });

  it('force-completes a stuck onboarding of an active tenant, audited as the founder, and refuses a second one with NothingToForceComplete', async () => {
    const { tenantId } = await createActiveTenant(orm);
    expect((await tenantRow(tenantId))?.onboarding_state).toBe('provisioned');

    const forced = await change(tenantId, 'force-complete', founder, { reason: 'onboarded on a call' });
    expect(forced.status).toBe(200);
    expect(forced.body).toEqual({ tenantId, action: 'forceComplete', from: 'active', to: 'active', deletesAt: null, offboarding: false });
    expect(await tenantRow(tenantId)).toEqual({ status: 'active', onboarding_state: 'complete' });
    expect(await auditRows(tenantId, ['onboarding.force_completed'])).toEqual([
      { action: 'onboarding.force_completed', actor: FOUNDER_ACTOR, from_state: 'provisioned', to_state: 'complete', reason: 'onboarded on a call', correlation_id: `tenant:${tenantId}` },
    ]);
    expect((await view(tenantId)).body).toMatchObject({ onboarding: { state: 'complete' } });

    const before = await tenantWorld(orm, [tenantId]);
    expectRefused(await change(tenantId, 'force-complete', founder, { reason: 'again' }), 'NothingToForceComplete');
    expect(await tenantWorld(orm, [tenantId])).toEqual(before);
  });

  it('force-completes a retention wait: offboarding starts at once (202) and the soft-deleted tenant ends terminated', async () => {
    const { tenantId } = await createActiveTenant(orm);
    expect((await softDelete(tenantId, { reason: 'customer left', retentionDays: 30 })).status).toBe(202);

    const forced = await change(tenantId, 'force-complete', founder, { reason: 'customer asked for erasure now' });
    expect(forced.status).toBe(202);
    expect(forced.body).toEqual({ tenantId, action: 'forceComplete', from: 'pending_deletion', to: 'pending_deletion', deletesAt: null, offboarding: true });
    await waitFor(async () => (await statusOf(tenantId)) === 'terminated', { timeoutMs: 60_000 });

    expect(await auditRows(tenantId, ['lifecycle.force_completed', 'lifecycle.terminated'])).toEqual([
      { action: 'lifecycle.force_completed', actor: FOUNDER_ACTOR, from_state: 'pending_deletion', to_state: 'pending_deletion', reason: 'customer asked for erasure now', correlation_id: `tenant:${tenantId}` },
      { action: 'lifecycle.terminated', actor: FOUNDER_ACTOR, from_state: 'pending_deletion', to_state: 'terminated', reason: 'customer asked for erasure now', correlation_id: offboardingWorkflowId(tenantId) },
    ]);
    expectRefused(await change(tenantId, 'restore', ops), 'TenantTerminated');
  });

  it('lists a live tenant whose onboarding has not moved for longer than olderThanHours, and only then', async () => {
    const stuck = await createActiveTenant(orm);
    const finished = await createActiveTenant(orm);
    const em = orm.em.fork();
    // Test setup: onboarding that last moved 100 hours ago.
    await em.execute(`update tenant set onboarding_updated_at = now() - interval '100 hours' where id in (?)`, [[stuck.tenantId, finished.tenantId]]);
    await em.execute(`update tenant set onboarding_state = 'complete' where id = ?`, [finished.tenantId]);

    const within = await stalled('olderThanHours=72&limit=500');
    expect(within.status).toBe(200);
    expect(within.body.olderThanHours).toBe(72);
    const listed = within.body.tenants as Array<{ tenantId: string }>;
    expect(listed).toContainEqual({ tenantId: stuck.tenantId, slug: stuck.slug, onboardingState: 'provisioned', since: expect.any(String) });
    expect(listed.map((tenant) => tenant.tenantId)).not.toContain(finished.tenantId);
    expect(listed.map((tenant) => tenant.tenantId)).not.toContain(SYSTEM_TENANT_ID);

    const beyond = await stalled('olderThanHours=200&limit=500');
    expect(beyond.status).toBe(200);
    expect((beyond.body.tenants as Array<{ tenantId: string }>).map((tenant) => tenant.tenantId)).not.toContain(stuck.tenantId);

    expect((await stalled('limit=500')).body.olderThanHours).toBe(subject.config.ONBOARDING_STALL_HOURS);
    for (const query of ['olderThanHours=soon', 'olderThanHours=-1', 'olderThanHours=1.5', 'olderThanHours=99999']) expectFieldError(await stalled(query), 'olderThanHours');
    expectFieldError(await stalled('olderThanHours=72&limit=0'), 'limit');
  });
});
