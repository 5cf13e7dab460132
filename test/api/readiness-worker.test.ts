/**
 * /readyz of an API-only process judges the worker by the heartbeat rows in Postgres, not by Temporal's poller list
 * (which keeps a dead worker listed for about 5 minutes). The processes here start through startControlPlane, the
 * code path `npm start` uses.
 */
import { randomUUID } from 'node:crypto';
import { MikroORM } from '@mikro-orm/postgresql';
import pino from 'pino';
import { startControlPlane, type RunningControlPlane } from '../../src/control-plane';
import { ormOptions, type Orm } from '../../src/db/orm';
import { createLogger } from '../../src/observability/logger';
import { startWorkerHeartbeat, WORKER_HEARTBEAT_FRESH_SECONDS, WORKER_HEARTBEAT_INTERVAL_MS } from '../../src/observability/worker-heartbeat';
import { freePort } from '../support/ports';
import { testConfig, testDatabaseUrl, testOrm, uniqueTaskQueue } from '../support/stack';
import { waitFor } from '../support/wait';

const silent = createLogger('silent');
let orm: Orm;
let apiOnly: RunningControlPlane;
let taskQueue: string;

beforeAll(async () => {
  orm = await testOrm();
  taskQueue = uniqueTaskQueue('readiness');
  apiOnly = await startControlPlane(testConfig({ PROCESS_ROLES: 'api', API_PORT: String(await freePort()), TEMPORAL_TASK_QUEUE: taskQueue }), testDatabaseUrl(), silent);
});
afterAll(async () => {
  await apiOnly.stop();
  await orm.close(true);
});
// Every test starts with no heartbeat for the API's task queue, whatever an earlier one left.
beforeEach(() => orm.em.fork().execute('delete from worker_heartbeat where task_queue = ?', [taskQueue]));

interface ReadinessAnswer {
  failing?: string[];
  checks: Record<string, string>;
}

async function readyz(): Promise<{ status: number; body: ReadinessAnswer }> {
  const response = await fetch(`${apiOnly.url}/readyz`);
  return { status: response.status, body: (await response.json()) as ReadinessAnswer };
}

const heartbeatRows = async (identity: string) => (await orm.em.fork().execute('select 1 from worker_heartbeat where identity = ?', [identity])).length;

async function writeHeartbeat(identity: string, queue: string, ageSeconds: number): Promise<void> {
  await orm.em.fork().execute(`insert into worker_heartbeat (identity, task_queue, seen_at) values (?, ?, now() - make_interval(secs => ?))`, [identity, queue, ageSeconds]);
}

describe('readiness of an API-only process', () => {
  it('fails naming the worker while no worker of its task queue has sent a heartbeat, whatever other queues do', async () => {
    await writeHeartbeat(`other-worker-${randomUUID()}`, uniqueTaskQueue('other-queue'), 0);

    const { status, body } = await readyz();

    expect(status).toBe(503);
    expect(body.failing).toEqual(['worker']);
    expect(body.checks).toMatchObject({ database: 'ok', temporal: 'ok' });
  });

  it('passes within one heartbeat interval of a worker starting to beat, and fails again as soon as it stops', async () => {
    const heartbeat = await startWorkerHeartbeat({ orm, taskQueue, workerIdentity: 'test-worker', isRunning: () => true, logger: silent });
    try {
      await waitFor(async () => (await readyz()).status === 200, { timeoutMs: WORKER_HEARTBEAT_INTERVAL_MS });
    } finally {
      await heartbeat.stop();
    }

    expect(await heartbeatRows(heartbeat.identity)).toBe(0);
    expect((await readyz()).body.failing).toEqual(['worker']);
  });

  it(`counts a heartbeat younger than ${WORKER_HEARTBEAT_FRESH_SECONDS} s and not an older one, as a SIGKILLed worker leaves behind`, async () => {
    const killedWorker = `killed-worker-${randomUUID()}`;
    await writeHeartbeat(killedWorker, taskQueue, WORKER_HEARTBEAT_FRESH_SECONDS + 1);
    expect((await readyz()).body.failing).toEqual(['worker']);

    await orm.em.fork().execute(`update worker_heartbeat set seen_at = now() - make_interval(secs => ?) where identity = ?`, [WORKER_HEARTBEAT_FRESH_SECONDS - 5, killedWorker]);
    expect((await readyz()).status).toBe(200);
  });

  it('gets no heartbeat from a worker that is not running', async () => {
    const heartbeat = await startWorkerHeartbeat({ orm, taskQueue, workerIdentity: 'failed-worker', isRunning: () => false, logger: silent });
    try {
      expect(await heartbeatRows(heartbeat.identity)).toBe(0);
      expect((await readyz()).body.failing).toEqual(['worker']);
    } finally {
      await heartbeat.stop();
    }
  });

  it('passes while a process running the worker role is up, and fails once that process has stopped', async () => {
    const workerProcess = await startControlPlane(testConfig({ PROCESS_ROLES: 'worker', TEMPORAL_TASK_QUEUE: taskQueue }), testDatabaseUrl(), silent);
    try {
      expect((await readyz()).status).toBe(200);
    } finally {
      await workerProcess.stop();
    }
    expect((await readyz()).body.failing).toEqual(['worker']);
  });
});

describe('the worker heartbeat', () => {
  it('stamps its row again every interval, so a live worker never stays stale', async () => {
    const heartbeat = await startWorkerHeartbeat({ orm, taskQueue, workerIdentity: 'live-worker', isRunning: () => true, logger: silent });
    try {
      await orm.em.fork().execute(`update worker_heartbeat set seen_at = now() - make_interval(secs => ?) where identity = ?`, [WORKER_HEARTBEAT_FRESH_SECONDS + 1, heartbeat.identity]);
      expect((await readyz()).body.failing).toEqual(['worker']);

      // The next beat is due within one interval of the first; a little slack for a loaded machine.
      await waitFor(async () => (await readyz()).status === 200, { timeoutMs: WORKER_HEARTBEAT_INTERVAL_MS + 2_000, intervalMs: 250 });
    } finally {
      await heartbeat.stop();
    }
  });

  it('logs a write that fails and never throws, at start or at stop', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const unreachable = await MikroORM.init({ ...ormOptions(testDatabaseUrl().replace(/:(\d+)\//, ':1/')), connect: false });
    try {
      const heartbeat = await startWorkerHeartbeat({ orm: unreachable, taskQueue, workerIdentity: 'cut-off-worker', isRunning: () => true, logger });
      await heartbeat.stop();
    } finally {
      await unreachable.close(true);
    }

    const messages = lines.map((line) => JSON.parse(line).msg as string);
    expect(messages).toEqual(expect.arrayContaining(['worker heartbeat: beat failed', 'worker heartbeat: deleting the row failed']));
  });
});
