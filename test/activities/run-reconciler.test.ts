import { randomUUID } from 'node:crypto';
import type { Logger } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createRunActivities } from '../../activities/run';
import { createRunReconcilerActivities } from '../../activities/run-reconciler';
import { createRunStepActivities } from '../../activities/run-steps';
import type { Orm } from '../../src/db/orm';
import { createMetrics } from '../../src/observability/metrics';
import { testOrm } from '../support/stack';
import { createActiveTenant, runInput } from '../support/runs';

let orm: Orm;
const quiet: Logger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const inActivity = <T>(work: () => Promise<T>): Promise<T> => new MockActivityEnvironment({}, { logger: quiet }).run(work) as Promise<T>;

beforeAll(async () => {
  orm = await testOrm();
});
afterAll(() => orm.close(true));

/** A run row and its audit contract written straight into Postgres: the shapes a buggy or crashed run could leave. */
async function craftRun(options: { finished: boolean; deadline?: Date; expected: string[]; acked: string[]; waived?: string[] }): Promise<string> {
  const runId = randomUUID();
  const em = orm.em.fork();
  await em.execute(
    `insert into run (id, tenant_id, workflow_id, phase, plan, step_states, outcome, degraded, submitted_by, finalize_deadline)
       values (?, ?, ?, ?, '{"steps":[]}', '[]', ?, false, 'user:test', ?)`,
    [runId, randomUUID(), `run:${runId}`, options.finished ? 'COMPLETED' : 'EXECUTING', options.finished ? 'completed' : null, options.deadline ?? new Date(Date.now() + 3_600_000)],
  );
  for (const key of options.expected) {
    const kind = key.startsWith('step:') ? 'step' : key === 'governance' ? 'governance' : 'finalize';
    await em.execute(`insert into run_expectation (run_id, key, kind, waived_reason) values (?, ?, ?, ?)`, [runId, key, kind, options.waived?.includes(key) ? 'crafted waiver' : null]);
  }
  for (const key of options.acked) await em.execute(`insert into run_ack (run_id, key) values (?, ?)`, [runId, key]);
  return runId;
}

async function findingsOf(runId: string) {
  return orm.em.fork().execute<Array<{ kind: string; key: string; resolved: boolean }>>(
    `select kind, key, resolved_at is not null as resolved from run_audit_finding where run_id = ? order by kind, key`,
    [runId],
  );
}

const settled = async (runId: string) => (await orm.em.fork().execute(`select audit_settled_at from run where id = ?`, [runId]))[0]?.audit_settled_at !== null;

describe('run audit reconciler', () => {
  it('finds missing, drift and stale on crafted runs, counts each once, and resolves what was fixed', async () => {
    const metrics = createMetrics();
    const reconciler = createRunReconcilerActivities({ orm, metrics });
    const missing = await craftRun({ finished: true, expected: ['step:0', 'step:1', 'governance', 'finalize_run'], acked: ['step:0', 'governance', 'finalize_run'] });
    const drift = await craftRun({ finished: true, expected: ['step:0', 'governance', 'finalize_run'], acked: ['step:0', 'governance', 'finalize_run', 'step:7'] });
    const stale = await craftRun({ finished: false, deadline: new Date(Date.now() - 60_000), expected: ['step:0', 'governance', 'finalize_run'], acked: ['step:0'] });
    const waived = await craftRun({ finished: true, expected: ['step:0', 'step:1', 'governance', 'finalize_run'], acked: ['step:0', 'finalize_run'], waived: ['step:1', 'governance'] });
    const inFlight = await craftRun({ finished: false, expected: ['step:0', 'step:1', 'governance', 'finalize_run'], acked: ['step:0'] });
    const orphanRunId = randomUUID();
    await orm.em.fork().execute(`insert into run_ack (run_id, key) values (?, 'step:0')`, [orphanRunId]);

    const first = await inActivity(() => reconciler.reconcileRunAudits());
    expect(first.detected.missing).toBeGreaterThanOrEqual(1);
    expect(await findingsOf(missing)).toEqual([{ kind: 'missing', key: 'step:1', resolved: false }]);
    expect(await findingsOf(drift)).toEqual([{ kind: 'drift', key: 'step:7', resolved: false }]);
    expect(await findingsOf(stale)).toEqual([{ kind: 'stale', key: 'finalize_run', resolved: false }]);
    expect(await findingsOf(orphanRunId)).toEqual([{ kind: 'drift', key: 'step:0', resolved: false }]);
    expect(await findingsOf(waived)).toEqual([]);
    expect(await findingsOf(inFlight)).toEqual([]);
    expect(await settled(waived)).toBe(true);
    expect(await settled(inFlight)).toBe(false);
    expect(await settled(missing)).toBe(false);

    const counted = async () => Object.fromEntries((await metrics.auditFindings.get()).values.map((value) => [value.labels.kind, value.value]));
    const afterFirst = await counted();
    await inActivity(() => reconciler.reconcileRunAudits());
    expect(await counted()).toEqual(afterFirst);

    await orm.em.fork().execute(`insert into run_ack (run_id, key) values (?, 'step:1')`, [missing]);
    await inActivity(() => reconciler.reconcileRunAudits());
    expect(await findingsOf(missing)).toEqual([{ kind: 'missing', key: 'step:1', resolved: true }]);
    expect(await settled(missing)).toBe(true);
  });

  it('reports a run that went through the real activities clean, and settles it', async () => {
    const tenant = await createActiveTenant(orm);
    const run = createRunActivities({ orm });
    const steps = createRunStepActivities({ orm });
    const input = runInput(tenant.tenantId, [{ kind: 'records.write', key: 'a', value: 1 }]);
    const context = { runId: input.runId, tenantId: tenant.tenantId };
    await run.openRun({ ...input, workflowId: `run:${input.runId}` });
    const { policyFingerprint } = await run.authorizeRun({ ...context, stepCount: 1 });
    await run.recordRunPhase({ ...context, phase: 'EXECUTING' });
    await steps.writeRecord({ ...context, stepIndex: 0, policyFingerprint, step: { kind: 'records.write', key: 'a', value: 1 } });
    await run.evaluateRunGovernance({ ...context, policyFingerprint, executedKinds: ['records.write'] });
    await run.recordRunPhase({ ...context, phase: 'FINALIZING' });
    await run.finalizeRun({ ...context, workflowId: `run:${input.runId}`, plan: input.plan, submittedBy: 'user:test', steps: [{ index: 0, kind: 'records.write', state: 'completed' }], degraded: false, override: null });

    await inActivity(() => createRunReconcilerActivities({ orm }).reconcileRunAudits());
    expect(await findingsOf(input.runId)).toEqual([]);
    expect(await settled(input.runId)).toBe(true);
  });
});
