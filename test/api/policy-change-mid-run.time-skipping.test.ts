/**
 * A policy change made through the API reaches a run already in flight through the policy fingerprint: the run halts
 * at its next step (PolicyChanged) and rolls back. On the time-skipping server, so the run's hour-long wait passes in
 * moments once the change has landed; the API is the real app, its run service on that server's client.
 */
import type { Express } from 'express';
import request from 'supertest';
import { createAccessControl } from '../../src/access-control';
import { buildApp } from '../../src/api/app';
import type { RunStep } from '../../src/domain/step-kinds';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import { createRunService } from '../../src/services/run-service';
import { createSignupService } from '../../src/services/signup-service';
import { runWorkflowId } from '../../src/temporal/workflow-ids';
import { bearer, login, provisionTeam, TEST_AUTH_SECRET, type TestTenant } from '../support/auth';
import { tenantData } from '../support/runs';
import { testConfig, uniqueTaskQueue } from '../support/stack';
import { startTimeSkippingRig, type TimeSkippingRig } from '../support/time-skipping';
import { waitFor } from '../support/wait';

let rig: TimeSkippingRig;
let app: Express;
const taskQueue = uniqueTaskQueue('policy-mid-run');

beforeAll(async () => {
  rig = await startTimeSkippingRig(taskQueue);
  const client = rig.environment.client;
  const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, AUTH_TOKEN_SECRET: TEST_AUTH_SECRET });
  const logger = createLogger('silent');
  const metrics = createMetrics();
  app = buildApp({
    logger,
    metrics,
    signups: createSignupService({ client, taskQueue }),
    readiness: {},
    hostedMode: false,
    signupRatePerHour: 1000,
    orm: rig.orm,
    access: createAccessControl({ config, orm: rig.orm, logger, metrics, rateLimitScope: uniqueTaskQueue('limits') }),
    runs: createRunService({ client, orm: rig.orm, taskQueue }),
  });
});
afterAll(() => rig?.close());

const PLAN: RunStep[] = [
  { kind: 'credits.debit', amount: 5 },
  { kind: 'wait', duration: '1h' },
  { kind: 'records.write', key: 'after-the-wait', value: 1 },
];

const policyRule = (team: TestTenant, rule: string) => `/api/v1/tenants/${team.tenantId}/policies/${rule}`;

describe('a policy change through the API halts a run in flight', () => {
  it.each([
    ['forbids a kind a later step uses', undefined, { rule: 'forbidden_step_kinds', params: { kinds: ['records.write'] } }],
    ['lowers a credit limit', { rule: 'max_debit_total', params: { limit: 100 } }, { rule: 'max_debit_total', params: { limit: 1 } }],
  ])('a PUT that %s while the run waits: the run fails with PolicyChanged and rolls back', async (_change, initial, change) => {
    const team = await provisionTeam(rig.orm);
    const admin = bearer((await login(app, team.members.admin.email)).accessToken);
    const owner = bearer((await login(app, team.members.owner.email)).accessToken);
    if (initial) await request(app).put(policyRule(team, initial.rule)).set(admin).send({ params: initial.params }).expect(201);

    const submitted = await request(app).post('/api/v1/runs').set(owner).send({ steps: PLAN });
    expect(submitted.status).toBe(202);
    const runId: string = submitted.body.runId;
    await waitFor(async () => (await request(app).get(`/api/v1/runs/${runId}`).set(owner)).body.steps?.[1]?.state === 'running');

    const changed = await request(app).put(policyRule(team, change.rule)).set(admin).send({ params: change.params, reason: 'tighten' });
    expect(changed.body).toMatchObject({ changed: true });

    // Awaiting the result lets the server skip the hour: the write after the wait meets the changed fingerprint.
    await expect(rig.environment.client.workflow.getHandle(runWorkflowId(runId)).result()).rejects.toMatchObject({ cause: { type: 'PolicyChanged' } });
    const run = (await request(app).get(`/api/v1/runs/${runId}`).set(owner)).body;
    expect(run).toMatchObject({ phase: 'FAILED', outcome: 'failed', cause: { type: 'PolicyChanged', stepIndex: 2 } });
    // The write's undo is registered before it runs, so it is compensated too: a no-op for a step that never wrote.
    expect(run.steps.map((step: { state: string }) => step.state)).toEqual(['compensated', 'completed', 'compensated']);
    expect(await tenantData(rig.orm, team.tenantId)).toMatchObject({ records: {}, balance: 0 });
  });
});
