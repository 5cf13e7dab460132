import type { Logger } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createRunActivities } from '../../activities/run';
import { createRunStepActivities } from '../../activities/run-steps';
import { workerExecutionGates } from '../../activities/execution-gates';
import type { RunCause } from '../../src/contracts/run';
import type { Orm } from '../../src/db/orm';
import { setPolicyRule } from '../../src/db/policy-rules';
import { dropTenantTables } from '../../src/db/tenant-schema';
import { allow, block } from '../../src/domain/gate-decision';
import { testOrm } from '../support/stack';
import { createActiveTenant, incidentOf, runAcks, runAuditActions, runInput, runRow, seedRecord, setTenantStatus } from '../support/runs';

let orm: Orm;
let run: ReturnType<typeof createRunActivities>;
const quiet: Logger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const inActivity = <T>(work: () => Promise<T>): Promise<T> => new MockActivityEnvironment({}, { logger: quiet }).run(work) as Promise<T>;

beforeAll(async () => {
  orm = await testOrm();
  run = createRunActivities({ orm });
});
afterAll(() => orm.close(true));

const NO_SWITCHES = { disableSignup: false, disableRunExecution: false, readOnlyMode: false };

const count = async (sql: string, params: unknown[]) => Number((await orm.em.fork().execute(sql, params))[0]?.count ?? 0);

describe('run bookkeeping activities', () => {
  it('openRun twice declares the run and its expectations once', async () => {
    const tenant = await createActiveTenant(orm);
    const input = runInput(tenant.tenantId, [{ kind: 'wait', duration: '1h' }, { kind: 'credits.debit', amount: 1 }]);
    await run.openRun({ ...input, workflowId: `run:${input.runId}` });
    await run.openRun({ ...input, workflowId: `run:${input.runId}` });
    expect(await count(`select count(*) from run where id = ?`, [input.runId])).toBe(1);
    const keys = await orm.em.fork().execute<Array<{ key: string }>>(`select key from run_expectation where run_id = ? order by id`, [input.runId]);
    expect(keys.map((row) => row.key)).toEqual(['step:0', 'step:1', 'governance', 'finalize_run']);
    expect(await runAuditActions(orm, input.runId)).toEqual(['run.created']);
    // One hour of planned waiting plus one hour of grace before a missing finalize_run counts as stale.
    const slack = await orm.em.fork().execute<Array<{ seconds: string }>>(`select extract(epoch from finalize_deadline - created_at) as seconds from run where id = ?`, [input.runId]);
    expect(Math.round(Number(slack[0]!.seconds) / 60)).toBe(120);
  });

  it('recordRunFailure twice writes one incident, one audit event and one finalize_run ack; a finished row is never rewritten', async () => {
    const tenant = await createActiveTenant(orm);
    const input = runInput(tenant.tenantId, [{ kind: 'credits.debit', amount: 1 }]);
    const closing = { runId: input.runId, tenantId: tenant.tenantId, workflowId: `run:${input.runId}`, plan: input.plan, submittedBy: 'user:test', steps: [], degraded: false };
    const cause: RunCause = { type: 'StepFailed', message: 'boom', stepIndex: 0 };
    await inActivity(() => run.recordRunFailure({ ...closing, cause }));
    await inActivity(() => run.recordRunFailure({ ...closing, cause }));
    expect(await incidentOf(orm, input.runId)).toEqual({ failure_type: 'StepFailed', cause });
    expect(await count(`select count(*) from run_incident where run_id = ?`, [input.runId])).toBe(1);
    expect(await runAuditActions(orm, input.runId)).toEqual(['run.failed']);
    expect(await runAcks(orm, input.runId)).toEqual(['finalize_run']);
    await run.finalizeRun({ ...closing, override: null });
    expect(await runRow(orm, input.runId)).toMatchObject({ phase: 'FAILED', outcome: 'failed' });
  });

  it('finalizeRun moves onboarding forward to first_run once, and never back from complete', async () => {
    const fresh = await createActiveTenant(orm);
    const done = await createActiveTenant(orm);
    await orm.em.fork().execute(`update tenant set onboarding_state = 'complete' where id = ?`, [done.tenantId]);
    for (const tenant of [fresh, done]) {
      const input = runInput(tenant.tenantId, [{ kind: 'credits.debit', amount: 1 }]);
      const closing = { runId: input.runId, tenantId: tenant.tenantId, workflowId: `run:${input.runId}`, plan: input.plan, submittedBy: 'user:test', steps: [], degraded: false, override: null };
      await run.finalizeRun(closing);
      await run.finalizeRun(closing);
    }
    const states = await orm.em.fork().execute<Array<{ id: string; onboarding_state: string }>>(`select id, onboarding_state from tenant where id in (?, ?)`, [fresh.tenantId, done.tenantId]);
    expect(Object.fromEntries(states.map((row) => [row.id, row.onboarding_state]))).toEqual({
      [fresh.tenantId]: 'first_run',
      [done.tenantId]: 'complete',
    });
    expect(await count(`select count(*) from audit_event where tenant_id = ? and action = 'onboarding.advanced' and to_state = 'first_run'`, [fresh.tenantId])).toBe(1);
  });

  it('concludeRun closes a passing run with its verdict in one transaction, and a retry after the close says so without judging again', async () => {
    const tenant = await createActiveTenant(orm);
    const input = runInput(tenant.tenantId, [{ kind: 'credits.debit', amount: 1 }]);
    await run.openRun({ ...input, workflowId: `run:${input.runId}` });
    const { policyFingerprint } = await run.authorizeRun({ runId: input.runId, tenantId: tenant.tenantId, stepCount: 1, enter: 'EXECUTING' });
    const closing = { runId: input.runId, tenantId: tenant.tenantId, workflowId: `run:${input.runId}`, plan: input.plan, submittedBy: 'user:test', steps: [], degraded: false };
    const request = { ...closing, policyFingerprint, executedKinds: [] };
    expect(await run.concludeRun(request)).toMatchObject({ outcome: 'pass', closed: true });
    expect(await runRow(orm, input.runId)).toMatchObject({ phase: 'COMPLETED', outcome: 'completed' });
    expect(await runAcks(orm, input.runId)).toEqual(expect.arrayContaining(['governance', 'finalize_run']));
    const trail = ['run.created', 'run.authorized', 'run.phase_changed', 'run.phase_changed', 'run.governance_passed', 'run.phase_changed', 'run.completed', 'onboarding.advanced'];
    expect(await runAuditActions(orm, input.runId)).toEqual(trail);
    // The worker died before recording the result; meanwhile the tenant was suspended. The retry must not refuse a closed run.
    await setTenantStatus(orm, tenant.tenantId, 'suspended');
    expect(await run.concludeRun(request)).toMatchObject({ outcome: 'pass', closed: true });
    expect(await runAuditActions(orm, input.runId)).toEqual(trail);
  });

  it('concludeRun leaves a rejected run open for its rollback', async () => {
    const tenant = await createActiveTenant(orm);
    await setPolicyRule(orm.em.fork(), tenant.tenantId, 'max_debit_total', { limit: 1 });
    const input = runInput(tenant.tenantId, [{ kind: 'credits.debit', amount: 5 }]);
    await run.openRun({ ...input, workflowId: `run:${input.runId}` });
    const { policyFingerprint } = await run.authorizeRun({ runId: input.runId, tenantId: tenant.tenantId, stepCount: 1, enter: 'EXECUTING' });
    const steps = createRunStepActivities({ orm });
    await inActivity(() => steps.debitCredits({ runId: input.runId, tenantId: tenant.tenantId, stepIndex: 0, policyFingerprint, step: { kind: 'credits.debit', amount: 5 } }));
    const closing = { runId: input.runId, tenantId: tenant.tenantId, workflowId: `run:${input.runId}`, plan: input.plan, submittedBy: 'user:test', steps: [], degraded: false };
    expect(await run.concludeRun({ ...closing, policyFingerprint, executedKinds: ['credits.debit'] })).toMatchObject({ outcome: 'reject', closed: false });
    expect(await runRow(orm, input.runId)).toMatchObject({ phase: 'GOVERNANCE_CHECK', outcome: null });
    expect(await runAcks(orm, input.runId)).not.toContain('finalize_run');
  });

  it('authorizeRun stops at the first refusing execution gate and reports its gate and reason', async () => {
    const tenant = await createActiveTenant(orm);
    const seen: string[] = [];
    const gated = createRunActivities({
      orm,
      executionGates: [
        async () => {
          seen.push('protection');
          return allow('protection');
        },
        async () => {
          seen.push('billing');
          return block('billing', 'the trial has expired');
        },
        async () => {
          seen.push('never');
          return allow('kill_switch');
        },
      ],
    });
    const input = runInput(tenant.tenantId, [{ kind: 'credits.debit', amount: 1 }]);
    await expect(gated.authorizeRun({ runId: input.runId, tenantId: tenant.tenantId, stepCount: 1 })).resolves.toMatchObject({
      allowed: false,
      gate: 'billing',
      reason: 'the trial has expired',
    });
    expect(seen).toEqual(['protection', 'billing']);
  });

  it("the worker's execution gates refuse a switched-off kernel, a plan longer than the billing plan allows and an expired plan at AUTHORIZED", async () => {
    const switchedOff = createRunActivities({ orm, executionGates: workerExecutionGates({ ...NO_SWITCHES, disableRunExecution: true }) });
    const gated = createRunActivities({ orm, executionGates: workerExecutionGates(NO_SWITCHES) });
    const tenant = await createActiveTenant(orm);
    const authorize = (activities: typeof run, stepCount: number) => activities.authorizeRun({ runId: runInput(tenant.tenantId, []).runId, tenantId: tenant.tenantId, stepCount });

    await expect(authorize(switchedOff, 1)).resolves.toMatchObject({ allowed: false, gate: 'kill_switch', reason: 'run execution is disabled' });
    await expect(authorize(gated, 3)).resolves.toMatchObject({ allowed: true });
    // A plan longer than the trial's steps per run, admitted before a downgrade or started without the API.
    await expect(authorize(gated, 6)).resolves.toMatchObject({ allowed: false, gate: 'billing', reason: "a run of 6 steps is over the plan's limit of 5 steps per run" });
    await orm.em.fork().execute(`update billing_account set subscription_state = 'expired' where tenant_id = ?`, [tenant.tenantId]);
    await expect(authorize(gated, 1)).resolves.toMatchObject({ allowed: false, gate: 'billing', reason: 'subscription is expired: the plan allows no runs' });
  });

  it("a compensation after the tenant's schema was dropped (offboarding) changes nothing and still acknowledges", async () => {
    const tenant = await createActiveTenant(orm);
    await seedRecord(orm, tenant.tenantId, 'k', 'before');
    const steps = createRunStepActivities({ orm });
    const input = runInput(tenant.tenantId, [{ kind: 'records.write', key: 'k', value: 'after' }]);
    const { policyFingerprint } = await run.authorizeRun({ runId: input.runId, tenantId: tenant.tenantId, stepCount: 1 });
    await steps.writeRecord({ runId: input.runId, tenantId: tenant.tenantId, stepIndex: 0, policyFingerprint, step: { kind: 'records.write', key: 'k', value: 'after' } });
    await orm.em.fork().transactional((em) => dropTenantTables(em, tenant.tenantId));
    await expect(steps.restoreRecord({ runId: input.runId, tenantId: tenant.tenantId, stepIndex: 0, kind: 'records.write' })).resolves.toEqual({ undone: false });
    expect(await runAcks(orm, input.runId)).toEqual(['compensate:0', 'step:0']);
    // A step after the drop is refused for good, and acknowledges nothing.
    const late = { runId: input.runId, tenantId: tenant.tenantId, stepIndex: 1, policyFingerprint };
    await expect(steps.debitCredits({ ...late, step: { kind: 'credits.debit', amount: 1 } })).rejects.toMatchObject({ type: 'TenantSchemaMissing', nonRetryable: true });
    expect(await runAcks(orm, input.runId)).toEqual(['compensate:0', 'step:0']);
  });
});
