import { randomUUID } from 'node:crypto';
import type { Logger } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createRunActivities } from '../../activities/run';
import { createRunReconcilerActivities } from '../../activities/run-reconciler';
import { createRunStepActivities } from '../../activities/run-steps';
import type { Orm } from '../../src/db/orm';
import { readRunAuditBacklog } from '../../src/db/run-audit-queries';
import { createMetrics, registerRunAuditBacklogGauges } from '../../src/observability/metrics';
import { isolatedDatabase, type IsolatedDatabase } from '../support/isolated-database';
import { craftBacklog } from '../support/run-backlog';
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

/**
 * Batches until the sweep reaches the newest run, as one pass of the reconciler workflow does: the shared database
 * may hold more than a batch of other files' unsettled runs ahead of this file's.
 */
async function sweep(reconciler: ReturnType<typeof createRunReconcilerActivities>): Promise<{ detectedMissing: number }> {
  let detectedMissing = 0;
  for (;;) {
    const batch = await inActivity(() => reconciler.reconcileRunAudits());
    detectedMissing += batch.detected.missing;
    if (batch.sweepComplete) return { detectedMissing };
  }
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

    const first = await sweep(reconciler);
    expect(first.detectedMissing).toBeGreaterThanOrEqual(1);
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
    await sweep(reconciler);
    expect(await counted()).toEqual(afterFirst);

    await orm.em.fork().execute(`insert into run_ack (run_id, key) values (?, 'step:1')`, [missing]);
    await sweep(reconciler);
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

    await sweep(createRunReconcilerActivities({ orm }));
    expect(await findingsOf(input.runId)).toEqual([]);
    expect(await settled(input.runId)).toBe(true);
  });
});

describe('run audit reconciler over a large backlog', () => {
  let isolated: IsolatedDatabase;
  beforeAll(async () => {
    isolated = await isolatedDatabase('reconciler_backlog');
  });
  afterAll(() => isolated?.drop());

  const openFindings = async (runIds: string[]) =>
    Number((await isolated.orm.em.fork().execute(`select count(*) as n from run_audit_finding where run_id in (?) and resolved_at is null`, [runIds]))[0]?.n);

  it('examines the newest run in the next pass when more than a batch of runs with lasting findings is ahead of it', async () => {
    const backlog = await craftBacklog(isolated.orm, 600, { newestMinutesAgo: 5 });
    const [newest] = await craftBacklog(isolated.orm, 1);
    const reconciler = createRunReconcilerActivities({ orm: isolated.orm });

    const first = await inActivity(() => reconciler.reconcileRunAudits());
    expect(first).toMatchObject({ scannedRuns: 500, settledRuns: 0, sweepComplete: false });
    expect(await openFindings(backlog.slice(0, 500))).toBe(500);
    expect(await openFindings([newest!])).toBe(0);

    const next = await inActivity(() => reconciler.reconcileRunAudits());
    expect(next).toMatchObject({ scannedRuns: 101, settledRuns: 0, sweepComplete: true, detected: { missing: 101, drift: 0, stale: 0 } });
    expect(await openFindings([newest!, ...backlog.slice(500)])).toBe(101);

    // The sweep starts over from the oldest: every run comes round again, none is examined twice in one sweep.
    const again = await inActivity(() => reconciler.reconcileRunAudits());
    expect(again).toMatchObject({ scannedRuns: 500, sweepComplete: false, detected: { missing: 0, drift: 0, stale: 0 } });
  });

  it('shows the backlog and the age of its oldest run on the metrics registry, read from Postgres at scrape time', async () => {
    const metrics = createMetrics();
    registerRunAuditBacklogGauges(metrics, () => readRunAuditBacklog(isolated.orm.em.fork()));
    const { unsettled, oldestCreatedAt } = await readRunAuditBacklog(isolated.orm.em.fork());
    expect(unsettled).toBeGreaterThan(500);
    const exposition = await metrics.registry.metrics();
    expect(exposition).toContain(`run_audit_backlog_runs ${unsettled}`);
    const age = Number(/run_audit_oldest_unsettled_age_seconds ([0-9.e+]+)/.exec(exposition)?.[1]);
    expect(age).toBeGreaterThanOrEqual((Date.now() - oldestCreatedAt!.getTime()) / 1000 - 5);
    expect(age).toBeGreaterThan(600 * 60 - 5);

    await isolated.orm.em.fork().execute(`update run set audit_settled_at = now() where audit_settled_at is null`);
    const drained = await metrics.registry.metrics();
    expect(drained).toContain('run_audit_backlog_runs 0');
    expect(drained).toContain('run_audit_oldest_unsettled_age_seconds 0');
  });
});

describe('run audit settlement', () => {
  const auditOf = async (runId: string) =>
    orm.em.fork().execute<Array<{ action: string; actor: string; details: { findings: unknown[] } }>>(
      `select action, actor, details from audit_event where entity_id = ? and action like 'run.audit_%' order by id`,
      [runId],
    );

  it('settles a run whose findings can no longer change, ages out one that never finished, each with an audit event', async () => {
    const reconciler = createRunReconcilerActivities({ orm });
    const finishedLongAgo = await craftRun({ finished: true, expected: ['step:0', 'finalize_run'], acked: ['finalize_run'] });
    await orm.em.fork().execute(`update run set finished_at = now() - interval '2 days' where id = ?`, [finishedLongAgo]);
    const finishedJustNow = await craftRun({ finished: true, expected: ['step:0', 'finalize_run'], acked: ['finalize_run'] });
    const abandoned = await craftRun({ finished: false, deadline: new Date(Date.now() - 31 * 86_400_000), expected: ['step:0', 'finalize_run'], acked: [] });

    await sweep(reconciler);
    expect(await settled(finishedLongAgo)).toBe(true);
    expect(await findingsOf(finishedLongAgo)).toEqual([{ kind: 'missing', key: 'step:0', resolved: false }]);
    expect(await auditOf(finishedLongAgo)).toEqual([{ action: 'run.audit_settled', actor: 'system:reconciler', details: { findings: [{ kind: 'missing', key: 'step:0' }] } }]);
    expect(await settled(finishedJustNow)).toBe(false);
    expect(await auditOf(finishedJustNow)).toEqual([]);
    expect(await settled(abandoned)).toBe(true);
    expect(await findingsOf(abandoned)).toEqual([{ kind: 'stale', key: 'finalize_run', resolved: false }]);
    expect(await auditOf(abandoned)).toEqual([{ action: 'run.audit_aged_out', actor: 'system:reconciler', details: { findings: [{ kind: 'stale', key: 'finalize_run' }] } }]);

    // The aged-out run closes after all: its audit is reopened and judged on what it did.
    const [row] = await orm.em.fork().execute(`select tenant_id, workflow_id from run where id = ?`, [abandoned]);
    await inActivity(() => createRunActivities({ orm }).recordRunFailure({
      runId: abandoned,
      tenantId: row.tenant_id,
      workflowId: row.workflow_id,
      plan: { steps: [] },
      submittedBy: 'user:test',
      steps: [],
      degraded: false,
      cause: { type: 'OperatorTerminated', message: 'closed at last' },
    }));
    expect(await settled(abandoned)).toBe(false);
    await sweep(reconciler);
    expect(await findingsOf(abandoned)).toEqual([
      { kind: 'missing', key: 'step:0', resolved: false },
      { kind: 'stale', key: 'finalize_run', resolved: true },
    ]);
  });
});
