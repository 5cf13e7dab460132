import { EntitySchema } from '@mikro-orm/core';

/**
 * The last time a running worker said it was alive, in the database's clock. Written by
 * src/observability/worker-heartbeat.ts; a row whose worker died unannounced (SIGKILL) simply goes stale.
 */
export class WorkerHeartbeat {
  /** Unique per worker start, so two processes never overwrite or delete each other's row. */
  identity!: string;
  taskQueue!: string;
  seenAt!: Date;
}

export const WorkerHeartbeatSchema = new EntitySchema<WorkerHeartbeat>({
  class: WorkerHeartbeat,
  tableName: 'worker_heartbeat',
  indexes: [{ name: 'worker_heartbeat_task_queue_seen_at_index', properties: ['taskQueue', 'seenAt'] }],
  properties: {
    identity: { type: 'text', primary: true },
    taskQueue: { type: 'text' },
    seenAt: { type: 'datetime' },
  },
});
