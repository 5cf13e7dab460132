import type { Worker } from '@temporalio/worker';
import request from 'supertest';
import { runStatusQuery } from '../../src/contracts/run';
import { postgresEventStore } from '../../src/db/event-store';
import type { Orm } from '../../src/db/orm';
import { EventSink } from '../../src/observability/event-sink';
import { createLogger } from '../../src/observability/logger';
import { createMetrics, type Metrics } from '../../src/observability/metrics';
import { bearer, buildTestApp, OPERATORS, type TestApp } from '../support/auth';
import { createActiveTenant, runInput, setTenantStatus, startRun } from '../support/runs';
import { connectToDevServer, startWorker, testOrm, uniqueTaskQueue, type DevServerHarness } from '../support/stack';
import { waitFor } from '../support/wait';

// The worker's decisions must reach the same places as the API's: its own metrics registry and the watch lists.
let temporal: DevServerHarness;
let orm: Orm;
let metrics: Metrics;
let events: EventSink;
let worker: Worker;
let workerRun: Promise<void>;
let api: TestApp;
const taskQueue = uniqueTaskQueue('worker-gates');
const asOps = bearer(OPERATORS.ops.token);

beforeAll(async () => {
  temporal = await connectToDevServer();
  orm = await testOrm();
  metrics = createMetrics();
  events = new EventSink({ store: postgresEventStore(orm), logger: createLogger('silent'), metrics, flushIntervalMs: 20 });
  worker = await startWorker({ connection: temporal.connection, taskQueue, orm, metrics, events });
  workerRun = worker.run();
  api = await buildTestApp(orm);
});
afterAll(async () => {
  worker?.shutdown();
  await workerRun;
  await events?.close();
  await api?.close();
  await temporal?.close();
  await orm?.close(true);
});

const counted = async (labels: { gate: string; outcome: string; boundary: string }) =>
  (await metrics.gateDecisions.get()).values.find((value) => Object.entries(labels).every(([name, label]) => value.labels[name as keyof typeof labels] === label))?.value ?? 0;

/** The watch list as an operator reads it, for one tenant. */
const watch = async (name: string, tenantId: string) => {
  const response = await request(api.app).get(`/api/v1/admin/watch/${name}`).query({ tenantId }).set(asOps);
  expect(response.status).toBe(200);
  return response.body.events as Array<{ type: string; runId: string | null; data: { gate: string; outcome: string; boundary: string; reason: string } }>;
};

describe('gate decisions taken by the worker', () => {
  it('records a refusal at AUTHORIZED in gate_decisions_total on the worker registry and in the billing watch list', async () => {
    const tenant = await createActiveTenant(orm);
    await orm.em.fork().execute(`update billing_account set subscription_state = 'expired' where tenant_id = ?`, [tenant.tenantId]);
    const before = await counted({ gate: 'billing', outcome: 'block', boundary: 'run_authorize' });
    // Started straight on Temporal, as a client of the Temporal API could: the API's admission never saw it.
    const input = runInput(tenant.tenantId, [{ kind: 'records.write', key: 'a', value: 1 }]);
    const handle = await startRun(temporal.client, taskQueue, input);
    await expect(handle.result()).rejects.toMatchObject({ cause: { type: 'GateRefused' } });

    expect(await counted({ gate: 'billing', outcome: 'block', boundary: 'run_authorize' })).toBe(before + 1);
    expect(await counted({ gate: 'lifecycle', outcome: 'allow', boundary: 'run_authorize' })).toBeGreaterThanOrEqual(1);
    const exposition = await metrics.registry.getSingleMetricAsString('gate_decisions_total');
    expect(exposition).toMatch(/gate_decisions_total\{gate="billing",outcome="block",boundary="run_authorize"\} [1-9]/);
    expect(exposition).not.toContain(tenant.tenantId);

    let refusals: Awaited<ReturnType<typeof watch>> = [];
    await waitFor(async () => (refusals = await watch('billing-limit-hits', tenant.tenantId)).length > 0);
    expect(refusals).toEqual([
      expect.objectContaining({
        type: 'gate.block',
        runId: input.runId,
        data: expect.objectContaining({ gate: 'billing', outcome: 'block', boundary: 'run_authorize', reason: expect.stringContaining('expired') }),
      }),
    ]);
  });

  it('records the per-step guard: a tenant suspended while its run waits is refused at the next step, boundary run_step', async () => {
    const tenant = await createActiveTenant(orm);
    const input = runInput(tenant.tenantId, [
      { kind: 'wait', duration: '3s' },
      { kind: 'records.write', key: 'a', value: 1 },
    ]);
    const before = await counted({ gate: 'lifecycle', outcome: 'block', boundary: 'run_step' });
    const handle = await startRun(temporal.client, taskQueue, input);
    await waitFor(async () => (await handle.query(runStatusQuery)).steps[0]?.state === 'running');
    await setTenantStatus(orm, tenant.tenantId, 'suspended');
    await expect(handle.result()).rejects.toMatchObject({ cause: { type: 'TenantHalted' } });

    expect(await counted({ gate: 'lifecycle', outcome: 'block', boundary: 'run_step' })).toBe(before + 1);
    expect(await counted({ gate: 'lifecycle', outcome: 'allow', boundary: 'run_step' })).toBeGreaterThanOrEqual(1);
    await waitFor(async () => {
      const stored = await orm.em.fork().execute(`select data from domain_event where tenant_id = ? and type = 'gate.block'`, [tenant.tenantId]);
      return stored.some((row) => row.data.boundary === 'run_step' && row.data.gate === 'lifecycle');
    });
  });
});
