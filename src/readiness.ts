import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { ReadinessCheck } from './api/routes/health';
import type { Orm } from './db/orm';
import { hasFreshWorkerHeartbeat, WORKER_HEARTBEAT_FRESH_SECONDS } from './observability/worker-heartbeat';

/**
 * What /readyz asks: can we reach Postgres, can we reach Temporal, and is a worker alive for our task queue (this
 * process's own worker when it runs one, otherwise any worker whose heartbeat row is fresh). Temporal's poller list
 * is not asked: it keeps a dead worker listed for about 5 minutes.
 */
export function readinessChecks(deps: { orm: Orm; client: Client; taskQueue: string; worker?: Worker }): Record<string, ReadinessCheck> {
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
      if (!(await hasFreshWorkerHeartbeat(deps.orm, deps.taskQueue))) {
        throw new Error(`no worker of the task queue has sent a heartbeat in the last ${WORKER_HEARTBEAT_FRESH_SECONDS} s`);
      }
    },
  };
}
