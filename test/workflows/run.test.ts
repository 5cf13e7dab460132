import { WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { approveRunUpdate, forceCompleteRunUpdate, runStatusQuery, terminateRunUpdate } from '../../src/contracts/run';
import { setPolicyRule } from '../../src/db/policy-rules';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createOffboardingActivities } from '../../activities/offboarding';
import { createRunService } from '../../src/services/run-service';
import { ActivityFaults, runCompensationFault, runStepFault, runTraceFault } from '../../tools/fixtures/activity-faults';
import { waitFor } from '../support/wait';
import type { Orm } from '../../src/db/orm';
import type { RunStep } from '../../src/domain/step-kinds';
import { type DevServerHarness, type DevServerWorker, startDevServerWorker, startWorker, uniqueTaskQueue } from '../support/stack';
import { createActiveTenant, incidentOf, runAcks, runAuditActions, runInput, runRow, seedRecord, setTenantStatus, startRun, tenantData } from '../support/runs';

let temporal: DevServerHarness;
let orm: Orm;
let rig: DevServerWorker;
const taskQueue = uniqueTaskQueue('runs');

beforeAll(async () => {
  rig = await startDevServerWorker(taskQueue);
  ({ temporal, orm } = rig);
});
afterAll(async () => {
  await rig.close();
});

const FIVE_STEPS: RunStep[] = [
  { kind: 'records.write', key: 'profile', value: { plan: 'gold' } },
  { kind: 'credits.debit', amount: 30, reason: 'usage' },
  { kind: 'records.delete', key: 'legacy' },
  { kind: 'credits.refund', amount: 5 },
  { kind: 'records.write', key: 'settings', value: ['a', 1] },
];

describe('runWorkflow on the dev server', () => {
  it('walks every phase, applies every step once, acknowledges every expectation and advances onboarding', async () => {
    const tenant = await createActiveTenant(orm);
    await seedRecord(orm, tenant.tenantId, 'legacy', { old: true });
    const input = runInput(tenant.tenantId, FIVE_STEPS);
    const handle = await startRun(temporal.client, taskQueue, input);
    const result = await handle.result();
    expect(result).toMatchObject({ runId: input.runId, phase: 'COMPLETED', outcome: 'completed', degraded: false, override: null });
    expect(result.steps.map((step) => step.state)).toEqual(['completed', 'completed', 'completed', 'completed', 'completed']);

    expect(await tenantData(orm, tenant.tenantId)).toEqual({
      records: { profile: { plan: 'gold' }, settings: ['a', 1] },
      ledger: [
        { key: `${input.runId}:1`, amount: -30 },
        { key: `${input.runId}:3`, amount: 5 },
      ],
      balance: -25,
    });
    expect(await runAcks(orm, input.runId)).toEqual(['finalize_run', 'governance', 'step:0', 'step:1', 'step:2', 'step:3', 'step:4']);
    expect(await runRow(orm, input.runId)).toMatchObject({ phase: 'COMPLETED', outcome: 'completed', cause: null, degraded: false });
    const actions = await runAuditActions(orm, input.runId);
    expect(actions).toEqual([
      'run.created',
      'run.authorized',
      'run.phase_changed',
      ...Array(5).fill('run.step_applied'),
      'run.phase_changed',
      'run.governance_passed',
      'run.phase_changed',
      'run.completed',
      'onboarding.advanced',
    ]);
    const description = await handle.describe();
    expect(description.searchAttributes).toMatchObject({ TenantId: [tenant.tenantId], RunPhase: ['COMPLETED'], RunDegraded: [false] });
    const onboarding = await orm.em.fork().execute(`select onboarding_state from tenant where id = ?`, [tenant.tenantId]);
    expect(onboarding[0].onboarding_state).toBe('first_run');
    expect(await incidentOf(orm, input.runId)).toBeUndefined();
    expect((await handle.query(runStatusQuery)).phase).toBe('COMPLETED');
  });

  it.each([0, 1, 2, 3, 4])('rolls back every step up to and including step %i when it fails permanently after committing', async (failing) => {
    const tenant = await createActiveTenant(orm);
    await seedRecord(orm, tenant.tenantId, 'legacy', { old: true });
    await seedRecord(orm, tenant.tenantId, 'profile', { plan: 'free' });
    const before = await tenantData(orm, tenant.tenantId);
    const input = runInput(tenant.tenantId, FIVE_STEPS);
    rig.faults.add(runStepFault(input.runId, failing, 'permanent'));
    const handle = await startRun(temporal.client, taskQueue, input);
    const failure = await handle.result().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause).toMatchObject({ type: 'StepFailed' });

    const after = await tenantData(orm, tenant.tenantId);
    expect(after.records).toEqual(before.records);
    expect(after.balance).toBe(0);
    const status = await handle.query(runStatusQuery);
    expect(status).toMatchObject({ phase: 'FAILED', outcome: 'failed', cause: { type: 'StepFailed', stepIndex: failing, errorType: 'InjectedFault' } });
    const effectsRun = status.steps.slice(0, failing + 1);
    expect(effectsRun.every((step) => step.state === 'compensated')).toBe(true);
    expect(status.steps.slice(failing + 1).every((step) => step.state === 'pending')).toBe(true);
    expect(await incidentOf(orm, input.runId)).toMatchObject({ failure_type: 'StepFailed' });
    const acks = await runAcks(orm, input.runId);
    for (let index = 0; index <= failing; index += 1) expect(acks).toContain(`compensate:${index}`);
  });

  it('rolls back the steps before a step that fails on its own (deleting a missing record) and never applies that step', async () => {
    const tenant = await createActiveTenant(orm);
    const input = runInput(tenant.tenantId, [
      { kind: 'records.write', key: 'a', value: 1 },
      { kind: 'credits.debit', amount: 7 },
      { kind: 'records.delete', key: 'never-written' },
      { kind: 'records.write', key: 'b', value: 2 },
    ]);
    const handle = await startRun(temporal.client, taskQueue, input);
    await expect(handle.result()).rejects.toMatchObject({ cause: { type: 'StepFailed' } });
    expect(await tenantData(orm, tenant.tenantId)).toEqual({
      records: {},
      ledger: [
        { key: `${input.runId}:1`, amount: -7 },
        { key: `${input.runId}:1:compensation`, amount: 7 },
      ],
      balance: 0,
    });
    const status = await handle.query(runStatusQuery);
    expect(status.cause).toMatchObject({ type: 'StepFailed', stepIndex: 2, errorType: 'RecordNotFound' });
    expect(status.steps.map((step) => step.state)).toEqual(['compensated', 'compensated', 'compensated', 'pending']);
    expect(await runAcks(orm, input.runId)).not.toContain('step:2');
  });

  it('rolls back on a governance rejection, with the violated rule as the cause', async () => {
    const tenant = await createActiveTenant(orm);
    await setPolicyRule(orm.em.fork(), tenant.tenantId, 'max_debit_total', { limit: 20 });
    const input = runInput(tenant.tenantId, [
      { kind: 'records.write', key: 'a', value: 1 },
      { kind: 'credits.debit', amount: 15 },
      { kind: 'credits.debit', amount: 10 },
    ]);
    const handle = await startRun(temporal.client, taskQueue, input);
    await expect(handle.result()).rejects.toMatchObject({ cause: { type: 'GovernanceRejected' } });
    expect(await tenantData(orm, tenant.tenantId)).toMatchObject({ records: {}, balance: 0 });
    expect((await handle.query(runStatusQuery)).cause).toMatchObject({ type: 'GovernanceRejected', violations: ['max_debit_total: debited 25, the limit is 20'] });
    expect(await runAuditActions(orm, input.runId)).toEqual(expect.arrayContaining(['run.governance_rejected', 'run.rollback_started', 'run.failed']));
    expect(await runRow(orm, input.runId)).toMatchObject({ phase: 'FAILED', outcome: 'failed', cause: { type: 'GovernanceRejected' } });
  });

  it('refuses a suspended tenant at the lifecycle gate: FAILED with the gate and reason, nothing applied', async () => {
    const tenant = await createActiveTenant(orm);
    await setTenantStatus(orm, tenant.tenantId, 'suspended');
    const input = runInput(tenant.tenantId, [{ kind: 'records.write', key: 'a', value: 1 }]);
    const handle = await startRun(temporal.client, taskQueue, input);
    await expect(handle.result()).rejects.toMatchObject({ cause: { type: 'GateRefused' } });
    expect((await handle.query(runStatusQuery)).cause).toEqual({ type: 'GateRefused', gate: 'lifecycle', message: 'refused by the lifecycle gate: the tenant is suspended' });
    expect(await tenantData(orm, tenant.tenantId)).toMatchObject({ records: {}, ledger: [] });
    expect(await incidentOf(orm, input.runId)).toMatchObject({ failure_type: 'GateRefused', cause: { gate: 'lifecycle' } });
    expect(await runAuditActions(orm, input.runId)).toEqual(['run.created', 'run.refused', 'run.rollback_started', 'run.failed']);
  });

  it("refuses a plan longer than the tenant's max_steps rule at authorisation", async () => {
    const tenant = await createActiveTenant(orm);
    await setPolicyRule(orm.em.fork(), tenant.tenantId, 'max_steps', { limit: 2 });
    const input = runInput(tenant.tenantId, FIVE_STEPS.slice(0, 3));
    const handle = await startRun(temporal.client, taskQueue, input);
    await expect(handle.result()).rejects.toMatchObject({ cause: { type: 'GateRefused' } });
    expect((await handle.query(runStatusQuery)).cause).toMatchObject({ gate: 'governance', message: expect.stringContaining('at most 2') });
  });

  it('terminates gracefully on an operator update mid-run: the wait is cut short, completed steps roll back, FAILED', async () => {
    const tenant = await createActiveTenant(orm);
    const input = runInput(tenant.tenantId, [
      { kind: 'records.write', key: 'a', value: 1 },
      { kind: 'credits.debit', amount: 4 },
      { kind: 'wait', duration: '1h' },
      { kind: 'records.write', key: 'b', value: 2 },
    ]);
    const handle = await startRun(temporal.client, taskQueue, input);
    await waitFor(async () => (await handle.query(runStatusQuery)).steps[2]!.state === 'running');
    await expect(handle.executeUpdate(approveRunUpdate, { args: [{ actor: 'user:x' }] })).rejects.toMatchObject({ cause: { type: 'NoApprovalPending' } });
    const answer = await handle.executeUpdate(terminateRunUpdate, { args: [{ actor: 'operator', reason: 'runaway plan' }] });
    expect(answer).toEqual({ accepted: 'terminate', phase: 'EXECUTING' });
    await expect(handle.result()).rejects.toMatchObject({ cause: { type: 'OperatorTerminated' } });
    expect(await tenantData(orm, tenant.tenantId)).toMatchObject({ records: {}, balance: 0 });
    const status = await handle.query(runStatusQuery);
    expect(status.cause).toEqual({ type: 'OperatorTerminated', message: 'terminated by operator: runaway plan', actor: 'operator' });
    expect(status.steps.map((step) => step.state)).toEqual(['compensated', 'compensated', 'skipped', 'pending']);
    // A second request meets a finished run.
    await expect(handle.executeUpdate(terminateRunUpdate, { args: [{ actor: 'operator', reason: 'again' }] })).rejects.toThrow();
  });

  it('force-completes on an operator update: skips what remains and governance, ends COMPLETED with the override audited', async () => {
    const tenant = await createActiveTenant(orm);
    const input = runInput(tenant.tenantId, [
      { kind: 'records.write', key: 'a', value: 1 },
      { kind: 'wait', duration: '1h' },
      { kind: 'records.write', key: 'b', value: 2 },
    ]);
    const handle = await startRun(temporal.client, taskQueue, input);
    await waitFor(async () => (await handle.query(runStatusQuery)).steps[1]!.state === 'running');
    await handle.executeUpdate(forceCompleteRunUpdate, { args: [{ actor: 'operator', reason: 'customer asked' }] });
    // A terminate after it is refused by the validator while the run finalises, or meets a run already finished (the
    // lean path finalises in the same workflow task): either way it changes nothing, as the result below shows.
    const late = await handle.executeUpdate(terminateRunUpdate, { args: [{ actor: 'operator', reason: 'changed my mind' }] }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(late instanceof WorkflowUpdateFailedError || late instanceof WorkflowNotFoundError).toBe(true);
    const result = await handle.result();
    expect(result).toMatchObject({ phase: 'COMPLETED', override: { actor: 'operator', reason: 'customer asked', skippedSteps: [1, 2], skippedGovernance: true } });
    expect(result.steps.map((step) => step.state)).toEqual(['completed', 'skipped', 'skipped']);
    expect((await tenantData(orm, tenant.tenantId)).records).toEqual({ a: 1 });
    const actions = await runAuditActions(orm, input.runId);
    expect(actions).toContain('run.force_completed');
    expect(actions).not.toContain('run.governance_passed');
    expect(await runRow(orm, input.runId)).toMatchObject({ phase: 'COMPLETED', override: { actor: 'operator', skippedGovernance: true } });
    const trail = await orm.em.fork().execute(`select actor, reason, details from audit_event where correlation_id = ? and action = 'run.force_completed'`, [input.runId]);
    expect(trail).toEqual([{ actor: 'operator', reason: 'customer asked', details: { skippedSteps: [1, 2], skippedGovernance: true } }]);
    const audit = await createRunService({ client: temporal.client, orm, taskQueue }).audit(input.runId);
    expect(audit?.findings).toEqual({ missing: [], drift: [], stale: false });
    expect(audit?.expectations.find((expectation) => expectation.key === 'governance')?.waivedReason).toBe('force-completed by operator: customer asked');
  });

  it('retries a compensation that fails transiently and still rolls back exactly once', async () => {
    const tenant = await createActiveTenant(orm);
    await seedRecord(orm, tenant.tenantId, 'profile', { plan: 'free' });
    const input = runInput(tenant.tenantId, FIVE_STEPS.slice(0, 2).concat({ kind: 'records.delete', key: 'missing' }));
    rig.faults.add(runCompensationFault(input.runId, 0, 2));
    const handle = await startRun(temporal.client, taskQueue, input);
    await expect(handle.result()).rejects.toMatchObject({ cause: { type: 'StepFailed' } });
    expect(await tenantData(orm, tenant.tenantId)).toMatchObject({ records: { profile: { plan: 'free' } }, balance: 0 });
    expect((await runAuditActions(orm, input.runId)).filter((action) => action === 'run.step_compensated')).toHaveLength(3);
  });

  it('goes on DEGRADED when its trace writes fail: completes, and says so in the result, the row and the search attributes', async () => {
    const tenant = await createActiveTenant(orm);
    const input = runInput(tenant.tenantId, [{ kind: 'records.write', key: 'a', value: 1 }]);
    rig.faults.add(runTraceFault(input.runId));
    const handle = await startRun(temporal.client, taskQueue, input);
    await expect(handle.result()).resolves.toMatchObject({ phase: 'COMPLETED', degraded: true });
    expect(await runRow(orm, input.runId)).toMatchObject({ phase: 'COMPLETED', degraded: true });
    expect((await handle.describe()).searchAttributes).toMatchObject({ RunDegraded: [true] });
    expect(await runAuditActions(orm, input.runId)).toContain('run.degraded');
  });

  it('finishes exactly once, each effect applied once, when its worker stops mid-run and another takes over', async () => {
    const otherQueue = uniqueTaskQueue('runs-handover');
    const tenant = await createActiveTenant(orm);
    await seedRecord(orm, tenant.tenantId, 'legacy', { old: true });
    const input = runInput(tenant.tenantId, FIVE_STEPS);
    // Both workers inject the same fault: attempts count across them, as they would for a real outage.
    const faults = new ActivityFaults().add(runStepFault(input.runId, 1, 'transient', 4));
    const first = await startWorker({ connection: temporal.connection, taskQueue: otherQueue, orm, activityInterceptors: [faults.interceptor] });
    const firstRun = first.run();
    const handle = await startRun(temporal.client, otherQueue, input);
    await waitFor(async () => (await handle.query(runStatusQuery)).steps[1]!.state === 'running');
    first.shutdown();
    await firstRun;

    const second = await startWorker({ connection: temporal.connection, taskQueue: otherQueue, orm, activityInterceptors: [faults.interceptor] });
    await second.runUntil(expect(handle.result()).resolves.toMatchObject({ phase: 'COMPLETED' }));
    const data = await tenantData(orm, tenant.tenantId);
    expect(data.ledger).toEqual([
      { key: `${input.runId}:1`, amount: -30 },
      { key: `${input.runId}:3`, amount: 5 },
    ]);
    expect(data.records).toEqual({ profile: { plan: 'gold' }, settings: ['a', 1] });
    const actions = await runAuditActions(orm, input.runId);
    expect(actions.filter((action) => action === 'run.step_applied')).toHaveLength(5);
    expect(actions.filter((action) => action === 'run.completed')).toHaveLength(1);
    const closed = await temporal.client.workflow.count(`WorkflowId = '${handle.workflowId}' AND ExecutionStatus = 'Completed'`);
    expect(closed.count).toBe(1);
  });

  it("cancels a tenant's in-flight runs for offboarding and leaves another tenant's run alone", async () => {
    const leaving = await createActiveTenant(orm);
    const staying = await createActiveTenant(orm);
    const waiting = (tenantId: string, key: string) => runInput(tenantId, [{ kind: 'records.write', key, value: 1 }, { kind: 'wait', duration: '1h' }]);
    const handles = await Promise.all(
      [waiting(leaving.tenantId, 'a'), waiting(leaving.tenantId, 'b'), waiting(staying.tenantId, 'a')].map((input) => startRun(temporal.client, taskQueue, input)),
    );
    for (const handle of handles) await waitFor(async () => (await handle.query(runStatusQuery)).steps[1]!.state === 'running');
    await waitFor(async () => (await temporal.client.workflow.count(`TenantId = '${leaving.tenantId}' AND ExecutionStatus = 'Running'`)).count === 2);

    const offboarding = createOffboardingActivities({ orm, client: temporal.client });
    const outcome = await new MockActivityEnvironment().run(() =>
      offboarding.terminateTenantRuns({ tenantId: leaving.tenantId, workflowId: `offboard:${leaving.tenantId}`, actor: 'system:offboarding', reason: null }),
    );
    expect(outcome).toEqual({ terminated: 2 });
    for (const handle of handles.slice(0, 2)) {
      await expect(handle.result()).rejects.toMatchObject({ cause: { type: 'OperatorTerminated' } });
      expect((await handle.query(runStatusQuery)).cause?.actor).toBe('system:offboarding');
    }
    expect((await tenantData(orm, leaving.tenantId)).records).toEqual({});
    expect((await handles[2]!.query(runStatusQuery)).phase).toBe('EXECUTING');
    await handles[2]!.executeUpdate(terminateRunUpdate, { args: [{ actor: 'test', reason: 'clean up' }] });
    await expect(handles[2]!.result()).rejects.toMatchObject({ cause: { type: 'OperatorTerminated' } });
  });

  it('is found waiting for approval by TenantId and RunPhase="GOVERNANCE_CHECK", and completes once approved', async () => {
    const tenant = await createActiveTenant(orm);
    await setPolicyRule(orm.em.fork(), tenant.tenantId, 'require_approval_over_debit', { threshold: 10, timeoutSeconds: 3600 });
    const input = runInput(tenant.tenantId, [{ kind: 'credits.debit', amount: 11 }]);
    const handle = await startRun(temporal.client, taskQueue, input);
    const waitingForApproval = `TenantId = '${tenant.tenantId}' AND RunPhase = 'GOVERNANCE_CHECK'`;
    await waitFor(async () => (await temporal.client.workflow.count(waitingForApproval)).count === 1 && (await handle.query(runStatusQuery)).pendingApproval !== null);
    expect((await handle.query(runStatusQuery)).pendingApproval).toMatchObject({ key: 'governance', reason: expect.stringContaining('above the approval threshold of 10') });
    await handle.executeUpdate(approveRunUpdate, { args: [{ actor: 'user:admin', approvalKey: 'governance' }] });
    await expect(handle.result()).resolves.toMatchObject({ phase: 'COMPLETED' });
    expect(await runAcks(orm, input.runId)).toContain('governance');
  });

  it('holds a record changed by a run in flight: a second run touching it waits, and goes on once the first rolled back', async () => {
    const tenant = await createActiveTenant(orm);
    await seedRecord(orm, tenant.tenantId, 'shared', 'original');
    const holder = await startRun(temporal.client, taskQueue, runInput(tenant.tenantId, [{ kind: 'records.write', key: 'shared', value: 'first' }, { kind: 'wait', duration: '1h' }]));
    await waitFor(async () => (await holder.query(runStatusQuery)).steps[1]!.state === 'running');
    const second = await startRun(temporal.client, taskQueue, runInput(tenant.tenantId, [{ kind: 'records.write', key: 'shared', value: 'second' }]));
    await waitFor(async () => (await second.describe()).raw.pendingActivities?.some((activity) => (activity.attempt ?? 0) > 1) ?? false);
    expect((await tenantData(orm, tenant.tenantId)).records).toEqual({ shared: 'first' });

    await holder.executeUpdate(terminateRunUpdate, { args: [{ actor: 'operator', reason: 'release the record' }] });
    await expect(holder.result()).rejects.toMatchObject({ cause: { type: 'OperatorTerminated' } });
    await expect(second.result()).resolves.toMatchObject({ phase: 'COMPLETED' });
    expect((await tenantData(orm, tenant.tenantId)).records).toEqual({ shared: 'second' });
  });
});
