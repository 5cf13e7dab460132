import { Client } from '@temporalio/client';
import request from 'supertest';
import { readRunCounts } from '../../src/services/run-admission';
import { createRunService } from '../../src/services/run-service';
import { runWorkflowId } from '../../src/temporal/workflow-ids';
import { bearer } from '../support/auth';
import { startRunApiHarness, type RunApiHarness, type TenantWithKeys } from '../support/run-api';
import { waitFor } from '../support/wait';

let api: RunApiHarness;
beforeAll(async () => {
  api = await startRunApiHarness();
});
afterAll(() => api.close());

const longWait = { steps: [{ kind: 'wait', duration: '1h' }] };
const submit = (tenant: TenantWithKeys, key?: string) => {
  const call = request(api.app).post('/api/v1/runs').set(bearer(tenant.keys.member)).send(longWait);
  return key ? call.set('idempotency-key', key) : call;
};
const inFlight = async (tenantId: string) => (await readRunCounts(api.orm.em.fork(), tenantId)).inFlight;

async function endRun(runId: string): Promise<void> {
  await api.runs.terminate(runId, { actor: 'operator:test', reason: 'test over' });
  await api.temporal.client.workflow.getHandle(runWorkflowId(runId)).result().catch(() => undefined);
}

describe('run admission', () => {
  it('admits exactly the ceiling of 40 submissions sent at once, and frees the slots when the runs end', async () => {
    const tenant = await api.tenant(); // a trial: 2 concurrent runs
    const answers = await Promise.all(Array.from({ length: 40 }, () => submit(tenant)));
    const admitted = answers.filter((answer) => answer.status === 202);
    expect(admitted).toHaveLength(2);
    expect(answers.filter((answer) => answer.status === 429)).toHaveLength(38);
    expect(answers.find((answer) => answer.status === 429)?.headers['retry-after']).toBeDefined();
    expect(await inFlight(tenant.tenantId)).toBe(2);
    // The contract exists before the first step: every expectation, finalize_run included.
    const [first] = admitted;
    const keys = await api.orm.em.fork().execute<Array<{ key: string }>>(`select key from run_expectation where run_id = ? order by key`, [first!.body.runId]);
    expect(keys.map((row) => row.key)).toEqual(['finalize_run', 'governance', 'step:0']);

    await Promise.all(admitted.map((answer) => endRun(answer.body.runId as string)));
    await waitFor(async () => (await inFlight(tenant.tenantId)) === 0);
    const next = await Promise.all(Array.from({ length: 5 }, () => submit(tenant)));
    expect(next.filter((answer) => answer.status === 202)).toHaveLength(2);
    await Promise.all(next.filter((answer) => answer.status === 202).map((answer) => endRun(answer.body.runId as string)));
  });

  it('lands a retried key on the same run, however many arrive at once, and takes one slot for it', async () => {
    const tenant = await api.tenant();
    const answers = await Promise.all(Array.from({ length: 6 }, () => submit(tenant, 'same-key')));
    expect(answers.map((answer) => answer.status)).toEqual(Array(6).fill(202));
    expect(new Set(answers.map((answer) => answer.body.runId)).size).toBe(1);
    expect(answers.filter((answer) => answer.body.duplicate === false)).toHaveLength(1);
    expect(await inFlight(tenant.tenantId)).toBe(1);
    await endRun(answers[0]!.body.runId as string);
  });

  it("holds a plan to its billing plan's steps per run at submission: 403 naming the billing gate, nothing reserved", async () => {
    const trial = await api.tenant(); // 5 steps per run
    const plan = (steps: number) => ({ steps: Array.from({ length: steps }, () => ({ kind: 'wait', duration: '1h' })) });
    const refused = await request(api.app).post('/api/v1/runs').set(bearer(trial.keys.member)).send(plan(6));
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ gate: 'billing', outcome: 'block', reason: "a run of 6 steps is over the plan's limit of 5 steps per run" });
    expect(await api.orm.em.fork().execute('select 1 from run where tenant_id = ?', [trial.tenantId])).toEqual([]);

    const enterprise = await api.tenant();
    // Before anything reads (and caches) its billing state: the plan with the hard cap of 20 steps.
    await api.orm.em.fork().execute(`update billing_account set plan = 'enterprise', subscription_state = 'active' where tenant_id = ?`, [enterprise.tenantId]);
    const admitted = await request(api.app).post('/api/v1/runs').set(bearer(enterprise.keys.member)).send(plan(20));
    expect(admitted.status).toBe(202);
    await endRun(admitted.body.runId as string);
  });

  it('releases the reservation when the workflow cannot start, and a retry of the key is admitted afresh', async () => {
    const tenant = await api.tenant();
    const unreachable = createRunService({ client: new Client({ connection: api.temporal.client.connection, namespace: 'no-such-namespace' }), orm: api.orm, taskQueue: api.taskQueue });
    const submission = { tenantId: tenant.tenantId, tenantStatus: 'active' as const, submittedBy: 'user:test', plan: longWait as never, idempotencyKey: 'retry-me' };
    await expect(unreachable.submit(submission, api.access.runAdmission)).rejects.toThrow();
    expect(await inFlight(tenant.tenantId)).toBe(0);
    const audit = await api.orm.em.fork().execute<Array<{ action: string }>>(`select action from audit_event where tenant_id = ? and entity_type = 'run' order by id`, [tenant.tenantId]);
    expect(audit.map((row) => row.action)).toEqual(['run.created', 'run.start_failed']);

    const retried = await submit(tenant, 'retry-me');
    expect(retried.status).toBe(202);
    expect(retried.body.duplicate).toBe(false);
    expect(await inFlight(tenant.tenantId)).toBe(1);
    await endRun(retried.body.runId as string);
  });
});
