import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { ReadinessCheck } from './api/routes/health';
import type { Orm } from './db/orm';

/**
 * What /readyz asks: can we reach Postgres, can we reach Temporal, and is a worker polling our task queue (this
 * process's own worker when it runs one, otherwise any poller Temporal has seen recently).
 */
export function readinessChecks(deps: { orm: Orm; client: Client; namespace: string; taskQueue: string; worker?: Worker }): Record<string, ReadinessCheck> {
  return {
    database: async () => {
      await deps.orm.em.fork().execute('select 1');
    },
    temporal: async () => {
      await deps.client.workflowService.getSystemInfo({});
    },
    worker: async () => {
      if (deps.worker) {
        if (deps.worker.getState() !== 'RUNNING') throw new Error(`worker is ${deps.worker.getState()}`);
        return;
      }
      const queue = await deps.client.workflowService.describeTaskQueue({ namespace: deps.namespace, taskQueue: { name: deps.taskQueue } });
      if ((queue.pollers ?? []).length === 0) throw new Error('no worker is polling the task queue');
    },
  };
}
