import { randomBytes } from 'node:crypto';
import type { Orm } from '../db/orm';
import type { Logger } from './logger';

/*
 * Whether a worker is alive, told across processes through Postgres. Temporal keeps listing a dead worker's poller for
 * about 5 minutes, and an idle healthy worker's long poll lasts about 60 s, so neither answers within 30 s.
 */

/** Often enough that a row stays fresh through two lost beats (a slow write, a GC pause) before readiness drops it. */
export const WORKER_HEARTBEAT_INTERVAL_MS = 10_000;
/** Three intervals: /readyz notices a dead worker within 30 s, and one late beat does not make it flap. */
export const WORKER_HEARTBEAT_FRESH_SECONDS = 30;
/** A worker killed without stopping (SIGKILL, OOM) leaves its row; at each start, rows this old are swept away. */
const ABANDONED_HEARTBEAT_HOURS = 24;

export interface WorkerHeartbeat {
  readonly identity: string;
  /** Stops beating and deletes this worker's row, so other processes stop counting it at once rather than in 30 s. */
  stop(): Promise<void>;
}

/**
 * Stamps this worker's row now and then every interval, while `isRunning()` holds: a worker whose run() failed inside a
 * live process stops beating and goes stale like a dead one. A failed write is logged, never thrown.
 */
export async function startWorkerHeartbeat(deps: {
  orm: Orm;
  taskQueue: string;
  /** Temporal's identity of the worker (pid@host); a random suffix makes the row's identity unique per start. */
  workerIdentity: string;
  isRunning: () => boolean;
  logger: Logger;
}): Promise<WorkerHeartbeat> {
  const identity = `${deps.workerIdentity}/${randomBytes(4).toString('hex')}`;
  const log = deps.logger.child({ workerHeartbeat: identity, taskQueue: deps.taskQueue });
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const write = async (what: string, sql: string, params: unknown[]) => {
    try {
      await deps.orm.em.fork().execute(sql, params);
    } catch (error) {
      log.warn({ err: error }, `worker heartbeat: ${what} failed`);
    }
  };
  const beat = async () => {
    if (!deps.isRunning()) return;
    await write(
      'beat',
      `insert into worker_heartbeat (identity, task_queue, seen_at) values (?, ?, now())
       on conflict (identity) do update set task_queue = excluded.task_queue, seen_at = excluded.seen_at`,
      [identity, deps.taskQueue],
    );
  };
  let beating: Promise<void> = Promise.resolve();
  // A timeout chained after each write, not an interval: a hung write never piles up a queue of beats behind it.
  const scheduleNextBeat = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      beating = beat().finally(scheduleNextBeat);
    }, WORKER_HEARTBEAT_INTERVAL_MS);
    // The heartbeat must never be the reason a process does not exit.
    timer.unref();
  };

  await write('sweeping abandoned rows', `delete from worker_heartbeat where seen_at < now() - make_interval(hours => ?)`, [ABANDONED_HEARTBEAT_HOURS]);
  await beat();
  scheduleNextBeat();

  return {
    identity,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await beating;
      await write('deleting the row', `delete from worker_heartbeat where identity = ?`, [identity]);
    },
  };
}

/** Readiness's one indexed query: has any worker of this task queue beaten within the freshness bound, by the database's clock? */
export async function hasFreshWorkerHeartbeat(orm: Orm, taskQueue: string): Promise<boolean> {
  const rows = await orm.em
    .fork()
    .execute(`select 1 from worker_heartbeat where task_queue = ? and seen_at > now() - make_interval(secs => ?) limit 1`, [taskQueue, WORKER_HEARTBEAT_FRESH_SECONDS]);
  return rows.length > 0;
}
