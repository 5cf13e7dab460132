import type { Orm } from '../../src/db/orm';
import { provisioningWorkflowId } from '../../src/temporal/workflow-ids';
import { EventSink, type EventStore } from '../../src/observability/event-sink';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import { postgresEventStore } from '../../src/db/event-store';
import { provisionInput, tenantFootprint } from '../support/provisioning';
import { connectToDevServer, startWorker, testOrm, uniqueTaskQueue, type DevServerHarness } from '../support/stack';
import { waitFor } from '../support/wait';

let temporal: DevServerHarness;
let orm: Orm;
beforeAll(async () => {
  temporal = await connectToDevServer();
  orm = await testOrm();
});
afterAll(async () => {
  await temporal.close();
  await orm.close(true);
});

async function provisionWith(store: EventStore) {
  const metrics = createMetrics();
  const events = new EventSink({ store, logger: createLogger('silent'), metrics, writeTimeoutMs: 100, flushIntervalMs: 20 });
  const taskQueue = uniqueTaskQueue('observability');
  const worker = await startWorker({ connection: temporal.connection, taskQueue, orm, metrics, events });
  const input = provisionInput();
  const result = await worker.runUntil(
    temporal.client.workflow.execute('provisionTenant', { taskQueue, workflowId: provisioningWorkflowId(input.slug), args: [input] }),
  );
  await events.close();
  return { input, result, metrics };
}

describe('observability never blocks the business path', () => {
  it('records each provisioning step as an event in the events table', async () => {
    const { input } = await provisionWith(postgresEventStore(orm));
    await waitFor(async () => {
      const rows = await orm.em.fork().execute('select type from domain_event where tenant_id = ?', [input.tenantId]);
      return rows.length === 6;
    });
    const rows = await orm.em.fork().execute<Array<{ type: string; workflow_id: string }>>('select type, workflow_id from domain_event where tenant_id = ? order by id', [input.tenantId]);
    expect(rows.every((row) => row.type === 'provisioning.step_completed' && row.workflow_id === provisioningWorkflowId(input.slug))).toBe(true);
  });

  it.each([
    ['throws', { append: async () => Promise.reject(new Error('events table is gone')) }, 'write_failed'],
    ['hangs', { append: () => new Promise<void>(() => undefined) }, 'write_timeout'],
  ] as Array<[string, EventStore, string]>)('a tenant is still provisioned when the event store %s, and the loss is counted', async (_name, store, reason) => {
    const { input, result, metrics } = await provisionWith(store);
    expect(result.status).toBe('active');
    expect(await tenantFootprint(orm, input.tenantId, input.ownerEmail)).toMatchObject({ status: 'active', schemas: 1 });
    const dropped = (await metrics.eventsDropped.get()).values.find((value) => value.labels.reason === reason)?.value ?? 0;
    expect(dropped).toBeGreaterThanOrEqual(6);
  });
});
