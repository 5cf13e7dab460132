import { randomUUID } from 'node:crypto';
import { createRunActivities } from '../../activities/run';
import { createRunStepActivities } from '../../activities/run-steps';
import type { RunStepContext } from '../../src/contracts/run';
import type { Orm } from '../../src/db/orm';
import { setPolicyRule } from '../../src/db/policy-rules';
import { testOrm } from '../support/stack';
import { createActiveTenant, runAcks, runAuditActions, seedRecord, setTenantStatus, tenantData } from '../support/runs';

let orm: Orm;
let steps: ReturnType<typeof createRunStepActivities>;
let run: ReturnType<typeof createRunActivities>;

beforeAll(async () => {
  orm = await testOrm();
  steps = createRunStepActivities({ orm });
  run = createRunActivities({ orm });
});
afterAll(() => orm.close(true));

/** A run context authorised against the tenant's current policy, as the workflow would hold it. */
async function authorised(tenantId: string, stepIndex = 0): Promise<RunStepContext> {
  const runId = randomUUID();
  const { policyFingerprint } = await run.authorizeRun({ runId, tenantId, stepCount: 1 });
  return { runId, tenantId, stepIndex, policyFingerprint };
}

describe('run step activities', () => {
  it('each executor run twice changes nothing the second time, and acks and audits once', async () => {
    const tenant = await createActiveTenant(orm);
    await seedRecord(orm, tenant.tenantId, 'gone', 'soon');
    const context = await authorised(tenant.tenantId);
    const calls = [
      () => steps.writeRecord({ ...context, stepIndex: 0, step: { kind: 'records.write', key: 'k', value: { v: 1 } } }),
      () => steps.debitCredits({ ...context, stepIndex: 1, step: { kind: 'credits.debit', amount: 9 } }),
      () => steps.refundCredits({ ...context, stepIndex: 2, step: { kind: 'credits.refund', amount: 4 } }),
      () => steps.deleteRecord({ ...context, stepIndex: 3, step: { kind: 'records.delete', key: 'gone' } }),
    ];
    for (const call of calls) await expect(call()).resolves.toEqual({ applied: true });
    const once = await tenantData(orm, tenant.tenantId);
    for (const call of calls) await expect(call()).resolves.toEqual({ applied: false });
    expect(await tenantData(orm, tenant.tenantId)).toEqual(once);
    expect(once).toMatchObject({ records: { k: { v: 1 } }, balance: -5 });
    expect(await runAcks(orm, context.runId)).toEqual(['step:0', 'step:1', 'step:2', 'step:3']);
    expect((await runAuditActions(orm, context.runId)).filter((action) => action === 'run.step_applied')).toHaveLength(4);
  });

  it('a key changed by a run still in flight is held: another run gets a retryable RecordBusy until the first finishes', async () => {
    const tenant = await createActiveTenant(orm);
    await seedRecord(orm, tenant.tenantId, 'shared', { owner: 'nobody' });
    const first = await authorised(tenant.tenantId);
    const second = await authorised(tenant.tenantId);
    const write = (context: RunStepContext, owner: string) => steps.writeRecord({ ...context, step: { kind: 'records.write', key: 'shared', value: { owner } } });
    await expect(write(first, 'first')).resolves.toEqual({ applied: true });
    await expect(write(second, 'second')).rejects.toMatchObject({ type: 'RecordBusy', nonRetryable: false });
    expect((await tenantData(orm, tenant.tenantId)).records).toEqual({ shared: { owner: 'first' } });
    await run.openRun({ runId: first.runId, tenantId: tenant.tenantId, plan: { steps: [{ kind: 'records.write', key: 'shared', value: {} }] }, submittedBy: 'user:test', workflowId: 'run:first' });
    await orm.em.fork().execute(`update run set outcome = 'completed' where id = ?`, [first.runId]);
    await expect(write(second, 'second')).resolves.toEqual({ applied: true });
    // The undo row of the second run holds what the first left, so its rollback restores exactly that.
    await expect(steps.restoreRecord({ ...second, kind: 'records.write' })).resolves.toEqual({ undone: true });
    expect((await tenantData(orm, tenant.tenantId)).records).toEqual({ shared: { owner: 'first' } });
  });

  it('compensations are safe for steps that never ran, and change nothing', async () => {
    const tenant = await createActiveTenant(orm);
    await seedRecord(orm, tenant.tenantId, 'k', 'untouched');
    const context = { runId: randomUUID(), tenantId: tenant.tenantId };
    await expect(steps.restoreRecord({ ...context, stepIndex: 0, kind: 'records.write' })).resolves.toEqual({ undone: false });
    await expect(steps.reverseCreditEntry({ ...context, stepIndex: 1, kind: 'credits.debit' })).resolves.toEqual({ undone: false });
    expect(await tenantData(orm, tenant.tenantId)).toEqual({ records: { k: 'untouched' }, ledger: [], balance: 0 });
  });

  it('compensations in reverse order, run twice, restore exactly what the steps found', async () => {
    const tenant = await createActiveTenant(orm);
    await seedRecord(orm, tenant.tenantId, 'existing', { version: 1 });
    await seedRecord(orm, tenant.tenantId, 'doomed', [1, 2]);
    const before = await tenantData(orm, tenant.tenantId);
    const context = await authorised(tenant.tenantId);
    await steps.writeRecord({ ...context, stepIndex: 0, step: { kind: 'records.write', key: 'existing', value: { version: 2 } } });
    await steps.writeRecord({ ...context, stepIndex: 1, step: { kind: 'records.write', key: 'fresh', value: null } });
    await steps.deleteRecord({ ...context, stepIndex: 2, step: { kind: 'records.delete', key: 'doomed' } });
    await steps.debitCredits({ ...context, stepIndex: 3, step: { kind: 'credits.debit', amount: 12 } });
    for (let round = 0; round < 2; round += 1) {
      await steps.reverseCreditEntry({ ...context, stepIndex: 3, kind: 'credits.debit' });
      await steps.restoreRecord({ ...context, stepIndex: 2, kind: 'records.delete' });
      await steps.restoreRecord({ ...context, stepIndex: 1, kind: 'records.write' });
      await steps.restoreRecord({ ...context, stepIndex: 0, kind: 'records.write' });
    }
    const after = await tenantData(orm, tenant.tenantId);
    expect(after.records).toEqual(before.records);
    expect(after.ledger).toEqual([
      { key: `${context.runId}:3`, amount: -12 },
      { key: `${context.runId}:3:compensation`, amount: 12 },
    ]);
    expect(await runAcks(orm, context.runId)).toEqual(expect.arrayContaining(['compensate:0', 'compensate:1', 'compensate:2', 'compensate:3']));
  });

  it('refuses a step of a suspended tenant as non-retryable TenantHalted and applies nothing', async () => {
    const tenant = await createActiveTenant(orm);
    const context = await authorised(tenant.tenantId);
    await setTenantStatus(orm, tenant.tenantId, 'suspended');
    await expect(steps.debitCredits({ ...context, step: { kind: 'credits.debit', amount: 1 } })).rejects.toMatchObject({ type: 'TenantHalted', nonRetryable: true });
    expect(await tenantData(orm, tenant.tenantId)).toMatchObject({ ledger: [] });
    expect(await runAcks(orm, context.runId)).toEqual([]);
  });

  it('refuses a running step once run execution is switched off (kill switch), and applies nothing', async () => {
    const tenant = await createActiveTenant(orm);
    const context = await authorised(tenant.tenantId);
    const switchedOff = createRunStepActivities({
      orm,
      killSwitches: { disableSignup: false, disableRunExecution: true, readOnlyMode: false },
    });
    await expect(switchedOff.debitCredits({ ...context, step: { kind: 'credits.debit', amount: 1 } })).rejects.toMatchObject({
      type: 'TenantHalted',
      message: 'halted: run execution is disabled',
      nonRetryable: true,
    });
    expect(await tenantData(orm, tenant.tenantId)).toMatchObject({ ledger: [] });
    expect(await runAcks(orm, context.runId)).toEqual([]);
  });

  it('refuses a step once the policy changed since authorisation as non-retryable PolicyChanged', async () => {
    const tenant = await createActiveTenant(orm);
    const context = await authorised(tenant.tenantId);
    await setPolicyRule(orm.em.fork(), tenant.tenantId, 'max_steps', { limit: 5 });
    await expect(steps.writeRecord({ ...context, step: { kind: 'records.write', key: 'k', value: 1 } })).rejects.toMatchObject({ type: 'PolicyChanged', nonRetryable: true });
    expect((await tenantData(orm, tenant.tenantId)).records).toEqual({});
    // Authorised under those rules, the guard finds the same fingerprint and lets the step through.
    const underRules = await authorised(tenant.tenantId);
    await setPolicyRule(orm.em.fork(), tenant.tenantId, 'max_debit_total', { limit: 50 });
    const underBoth = await authorised(tenant.tenantId);
    await expect(steps.writeRecord({ ...underBoth, step: { kind: 'records.write', key: 'k', value: 1 } })).resolves.toEqual({ applied: true });
    await expect(steps.debitCredits({ ...underRules, step: { kind: 'credits.debit', amount: 1 } })).rejects.toMatchObject({ type: 'PolicyChanged' });
  });

  it("a tenant's run leaves another tenant's data alone", async () => {
    const mine = await createActiveTenant(orm);
    const theirs = await createActiveTenant(orm);
    await seedRecord(orm, theirs.tenantId, 'k', 'theirs');
    const context = await authorised(mine.tenantId);
    await steps.writeRecord({ ...context, step: { kind: 'records.write', key: 'k', value: 'mine' } });
    await steps.debitCredits({ ...context, stepIndex: 1, step: { kind: 'credits.debit', amount: 3 } });
    expect(await tenantData(orm, theirs.tenantId)).toEqual({ records: { k: 'theirs' }, ledger: [], balance: 0 });
  });
});
