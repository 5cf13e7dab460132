import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { approveRunUpdate, rejectRunUpdate, runStatusQuery } from '../../src/contracts/run';
import type { Orm } from '../../src/db/orm';
import { deactivatePolicyRule, setPolicyRule } from '../../src/db/policy-rules';
import { uniqueTaskQueue } from '../support/stack';
import { startTimeSkippingRig, type TimeSkippingRig } from '../support/time-skipping';
import { createActiveTenant, runAuditActions, runInput, runRow, seedRecord, setTenantStatus, startRun, tenantData } from '../support/runs';
import { waitFor } from '../support/wait';

// On the Java time-skipping test server: waits and approval timeouts of hours pass in moments.
let environment: TestWorkflowEnvironment;
let orm: Orm;
let rig: TimeSkippingRig;
const taskQueue = uniqueTaskQueue('runs-ts');

beforeAll(async () => {
  rig = await startTimeSkippingRig(taskQueue);
  ({ environment, orm } = rig);
});
afterAll(() => rig?.close());

describe('runWorkflow on the time-skipping server', () => {
  it('approval granted by a tenant admin: the run completes and the approver is in the audit trail', async () => {
    const tenant = await createActiveTenant(orm);
    const input = runInput(tenant.tenantId, [
      { kind: 'records.write', key: 'a', value: 1 },
      { kind: 'approval', reason: 'big change', timeout: '2h' },
      { kind: 'records.write', key: 'b', value: 2 },
    ]);
    const handle = await startRun(environment.client, taskQueue, input);
    await waitFor(async () => (await handle.query(runStatusQuery)).pendingApproval !== null);
    const status = await handle.query(runStatusQuery);
    expect(status.pendingApproval).toMatchObject({ key: 'step:1', reason: 'big change' });
    const answer = await handle.executeUpdate(approveRunUpdate, { args: [{ actor: 'user:admin', approvalKey: 'step:1', note: 'ok' }] });
    expect(answer).toEqual({ approvalKey: 'step:1', decision: 'approved' });
    await expect(handle.result()).resolves.toMatchObject({ phase: 'COMPLETED' });
    expect((await tenantData(orm, tenant.tenantId)).records).toEqual({ a: 1, b: 2 });
    const approvals = await orm.em.fork().execute(`select actor, reason from audit_event where correlation_id = ? and action = 'run.approval_approved'`, [input.runId]);
    expect(approvals).toEqual([{ actor: 'user:admin', reason: 'ok' }]);
  });

  it('approval rejected: full rollback, FAILED with the rejecting admin as the cause', async () => {
    const tenant = await createActiveTenant(orm);
    await seedRecord(orm, tenant.tenantId, 'a', 'before');
    const input = runInput(tenant.tenantId, [
      { kind: 'records.write', key: 'a', value: 'after' },
      { kind: 'credits.debit', amount: 3 },
      { kind: 'approval', timeout: '2h' },
    ]);
    const handle = await startRun(environment.client, taskQueue, input);
    await waitFor(async () => (await handle.query(runStatusQuery)).pendingApproval !== null);
    await expect(handle.executeUpdate(approveRunUpdate, { args: [{ actor: 'user:admin', approvalKey: 'governance' }] })).rejects.toMatchObject({
      cause: { type: 'ApprovalKeyMismatch' },
    });
    await handle.executeUpdate(rejectRunUpdate, { args: [{ actor: 'user:admin', note: 'not today' }] });
    await expect(handle.result()).rejects.toMatchObject({ cause: { type: 'ApprovalRejected' } });
    expect(await tenantData(orm, tenant.tenantId)).toMatchObject({ records: { a: 'before' }, balance: 0 });
    const status = await handle.query(runStatusQuery);
    expect(status.cause).toMatchObject({ type: 'ApprovalRejected', actor: 'user:admin', stepIndex: 2 });
    expect(status.steps.map((step) => step.state)).toEqual(['compensated', 'compensated', 'failed']);
    expect(await runAuditActions(orm, input.runId)).toEqual(expect.arrayContaining(['run.approval_rejected', 'run.rollback_started', 'run.failed']));
  });

  it('approval timed out after skipped time: full rollback, FAILED ApprovalTimedOut', async () => {
    const tenant = await createActiveTenant(orm);
    const input = runInput(tenant.tenantId, [
      { kind: 'records.write', key: 'a', value: 1 },
      { kind: 'approval', timeout: '2h' },
    ]);
    const handle = await startRun(environment.client, taskQueue, input);
    await waitFor(async () => (await handle.query(runStatusQuery)).pendingApproval !== null);
    await environment.sleep('3h');
    await expect(handle.result()).rejects.toMatchObject({ cause: { type: 'ApprovalTimedOut' } });
    expect((await tenantData(orm, tenant.tenantId)).records).toEqual({});
    expect(await runAuditActions(orm, input.runId)).toContain('run.approval_timed_out');
  });

  it('governance asks for approval above the debit threshold; granted, the run completes', async () => {
    const tenant = await createActiveTenant(orm);
    await setPolicyRule(orm.em.fork(), tenant.tenantId, 'require_approval_over_debit', { threshold: 10, timeoutSeconds: 3600 });
    const input = runInput(tenant.tenantId, [{ kind: 'credits.debit', amount: 25 }]);
    const handle = await startRun(environment.client, taskQueue, input);
    await waitFor(async () => (await handle.query(runStatusQuery)).pendingApproval !== null);
    expect(await handle.query(runStatusQuery)).toMatchObject({ phase: 'GOVERNANCE_CHECK', pendingApproval: { key: 'governance' } });
    await handle.executeUpdate(approveRunUpdate, { args: [{ actor: 'user:admin' }] });
    await expect(handle.result()).resolves.toMatchObject({ phase: 'COMPLETED' });
    expect((await tenantData(orm, tenant.tenantId)).balance).toBe(-25);
    expect(await runAuditActions(orm, input.runId)).toEqual(expect.arrayContaining(['run.approval_requested', 'run.approval_approved', 'run.completed']));
  });

  it('governance approval timed out after skipped time: full rollback', async () => {
    const tenant = await createActiveTenant(orm);
    await setPolicyRule(orm.em.fork(), tenant.tenantId, 'require_approval_over_debit', { threshold: 10, timeoutSeconds: 3600 });
    const input = runInput(tenant.tenantId, [{ kind: 'credits.debit', amount: 25 }]);
    const handle = await startRun(environment.client, taskQueue, input);
    await waitFor(async () => (await handle.query(runStatusQuery)).pendingApproval !== null);
    await environment.sleep('2h');
    await expect(handle.result()).rejects.toMatchObject({ cause: { type: 'ApprovalTimedOut' } });
    expect((await tenantData(orm, tenant.tenantId)).balance).toBe(0);
  });

  it('a tenant suspended mid-run halts the run before its next step and rolls back what it did', async () => {
    const tenant = await createActiveTenant(orm);
    const input = runInput(tenant.tenantId, [
      { kind: 'records.write', key: 'a', value: 1 },
      { kind: 'credits.debit', amount: 5 },
      { kind: 'wait', duration: '1h' },
      { kind: 'records.write', key: 'b', value: 2 },
    ]);
    const handle = await startRun(environment.client, taskQueue, input);
    await waitFor(async () => (await handle.query(runStatusQuery)).steps[2]!.state === 'running');
    await setTenantStatus(orm, tenant.tenantId, 'suspended');
    await expect(handle.result()).rejects.toMatchObject({ cause: { type: 'TenantHalted' } });
    expect(await tenantData(orm, tenant.tenantId)).toMatchObject({ records: {}, balance: 0 });
    const status = await handle.query(runStatusQuery);
    expect(status.cause).toMatchObject({ type: 'TenantHalted', stepIndex: 3, message: 'halted: the tenant is suspended' });
    expect(status.steps.map((step) => step.state)).toEqual(['compensated', 'compensated', 'completed', 'compensated']);
    expect(await runRow(orm, input.runId)).toMatchObject({ phase: 'FAILED', cause: { type: 'TenantHalted' } });
  });

  it.each([
    ['a new rule', (tenantId: string) => setPolicyRule(orm.em.fork(), tenantId, 'max_debit_total', { limit: 1000 })],
    ['a rule switched off', (tenantId: string) => deactivatePolicyRule(orm.em.fork(), tenantId, 'forbidden_step_kinds')],
  ])('a policy changed mid-run (%s) halts the run and rolls it back', async (_change, change) => {
    const tenant = await createActiveTenant(orm);
    await setPolicyRule(orm.em.fork(), tenant.tenantId, 'forbidden_step_kinds', { kinds: ['records.delete'] });
    const input = runInput(tenant.tenantId, [
      { kind: 'credits.debit', amount: 5 },
      { kind: 'wait', duration: '30m' },
      { kind: 'records.write', key: 'b', value: 2 },
    ]);
    const handle = await startRun(environment.client, taskQueue, input);
    await waitFor(async () => (await handle.query(runStatusQuery)).steps[1]!.state === 'running');
    await change(tenant.tenantId);
    await expect(handle.result()).rejects.toMatchObject({ cause: { type: 'PolicyChanged' } });
    expect(await tenantData(orm, tenant.tenantId)).toMatchObject({ records: {}, balance: 0 });
  });
});
