import type { Worker } from '@temporalio/worker';
import type { Metrics } from '../../src/observability/metrics';
import { isolatedDatabase, type IsolatedDatabase } from './isolated-database';
import { connectToDevServer, startWorker, uniqueSlug, uniqueTaskQueue, type DevServerHarness } from './stack';

/** What a test of a scheduled, platform-wide pass needs: its own database, a worker on its own queue, a schedule id. */
export interface ScheduledPassRig {
  temporal: DevServerHarness;
  isolated: IsolatedDatabase;
  taskQueue: string;
  scheduleId: string;
  /** Workflows the test started, terminated when it ends. */
  started: string[];
  close(): Promise<void>;
}

/**
 * A pass acts on every row it finds, so it gets a database of its own and must neither find nor touch other files'
 * tenants or runs; its schedule and the workflows it started go when the test ends.
 */
export async function startScheduledPassRig(name: string, options: { metrics?: Metrics } = {}): Promise<ScheduledPassRig> {
  const temporal = await connectToDevServer();
  const isolated = await isolatedDatabase(name.replace(/-/g, '_'));
  const taskQueue = uniqueTaskQueue(name);
  const worker: Worker = await startWorker({ connection: temporal.connection, taskQueue, orm: isolated.orm, metrics: options.metrics });
  const workerRun = worker.run();
  const rig: ScheduledPassRig = {
    temporal,
    isolated,
    taskQueue,
    scheduleId: uniqueSlug(`${name}-schedule`),
    started: [],
    async close() {
      await temporal.client.schedule.getHandle(rig.scheduleId).delete().catch(() => undefined);
      for (const workflowId of rig.started) await temporal.client.workflow.getHandle(workflowId).terminate('test done').catch(() => undefined);
      worker.shutdown();
      await workerRun;
      await temporal.close();
      await isolated.drop();
    },
  };
  return rig;
}
