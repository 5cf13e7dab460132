import request from 'supertest';
import { MikroORM } from '@mikro-orm/postgresql';
import { ormOptions } from '../../src/db/orm';
import { createLogger } from '../../src/observability/logger';
import { startWorkerHeartbeat } from '../../src/observability/worker-heartbeat';
import { readinessChecks } from '../../src/readiness';
import { startApiHarness, type ApiHarness } from '../support/api';
import { testDatabaseUrl, uniqueTaskQueue } from '../support/stack';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApiHarness();
});
afterAll(() => api.close());

describe('health endpoints', () => {
  it('GET /healthz answers while the process is up', async () => {
    expect((await request(api.app).get('/healthz')).body).toEqual({ status: 'ok' });
  });

  it('GET /readyz is ready when Postgres, Temporal and a worker with a fresh heartbeat all answer', async () => {
    const heartbeat = await startWorkerHeartbeat({ orm: api.orm, taskQueue: api.taskQueue, workerIdentity: 'health-test', isRunning: () => true, logger: createLogger('silent') });
    const checks = readinessChecks({ orm: api.orm, client: api.temporal.client, taskQueue: api.taskQueue });
    const response = await request(api.build({}, { readiness: checks })).get('/readyz');
    await heartbeat.stop();
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ready', checks: { database: 'ok', temporal: 'ok', worker: 'ok' } });
  });

  it('GET /readyz answers 503 naming the worker when no worker of the task queue sends a heartbeat', async () => {
    const checks = readinessChecks({ orm: api.orm, client: api.temporal.client, taskQueue: uniqueTaskQueue('nobody') });
    const response = await request(api.build({}, { readiness: checks })).get('/readyz');
    expect(response.status).toBe(503);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(response.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    expect(response.body).toMatchObject({ failing: ['worker'], checks: { database: 'ok', temporal: 'ok' } });
  });

  it('GET /readyz answers 503 naming the database when Postgres cannot be reached', async () => {
    const unreachable = await MikroORM.init({ ...ormOptions(testDatabaseUrl().replace(/:(\d+)\//, ':1/')), connect: false });
    try {
      const checks = readinessChecks({ orm: unreachable, client: api.temporal.client, taskQueue: api.taskQueue });
      const response = await request(api.build({}, { readiness: checks })).get('/readyz');
      expect(response.status).toBe(503);
      // Without a worker of its own, the worker check reads heartbeats from the same Postgres, so it fails too.
      expect(response.body.failing).toEqual(['database', 'worker']);
    } finally {
      await unreachable.close(true);
    }
  });
});
