import type { Express } from 'express';
import type { Worker } from '@temporalio/worker';
import { buildApp, type AppDependencies } from '../../src/api/app';
import type { Config } from '../../src/config';
import type { Orm } from '../../src/db/orm';
import { createLogger } from '../../src/observability/logger';
import { createMetrics, type Metrics } from '../../src/observability/metrics';
import { createSignupService } from '../../src/services/signup-service';
import { createAccessControl } from '../../src/access-control';
import { ActivityFaults } from '../../tools/fixtures/activity-faults';
import { TEST_AUTH_SECRET } from './auth';
import { connectToDevServer, startWorker, testConfig, testOrm, uniqueTaskQueue, type DevServerHarness } from './stack';

export interface ApiHarness {
  app: Express;
  build(overrides?: Record<string, string>, extra?: Partial<AppDependencies>): Express;
  temporal: DevServerHarness;
  orm: Orm;
  metrics: Metrics;
  config: Config;
  taskQueue: string;
  /** Faults a test plans for a workflow of the harness's worker, by workflow id. */
  faults: ActivityFaults;
  close(): Promise<void>;
}

/** The real app on the real dev server and Postgres, with a worker of its own on a task queue of its own. */
export async function startApiHarness(overrides: Record<string, string> = {}): Promise<ApiHarness> {
  const temporal = await connectToDevServer();
  const orm = await testOrm();
  const taskQueue = uniqueTaskQueue('api');
  const metrics = createMetrics();
  const faults = new ActivityFaults();
  const worker: Worker = await startWorker({ connection: temporal.connection, taskQueue, orm, metrics, activityInterceptors: [faults.interceptor] });
  const workerRun = worker.run();
  const build = (more: Record<string, string> = {}, extra: Partial<AppDependencies> = {}) => {
    const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, AUTH_TOKEN_SECRET: TEST_AUTH_SECRET, ...overrides, ...more });
    const logger = createLogger('silent');
    return buildApp({
      logger,
      metrics,
      signups: createSignupService({ client: temporal.client, taskQueue }),
      readiness: {
        database: async () => {
          await orm.em.fork().execute('select 1');
        },
      },
      hostedMode: config.HOSTED_MODE,
      signupRatePerHour: config.SIGNUP_RATE_LIMIT_PER_HOUR,
      orm,
      access: createAccessControl({ config, orm, logger, metrics, rateLimitScope: uniqueTaskQueue('limits') }),
      ...extra,
    });
  };
  return {
    app: build(),
    build,
    temporal,
    orm,
    metrics,
    config: testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, ...overrides }),
    taskQueue,
    faults,
    async close() {
      worker.shutdown();
      await workerRun;
      await temporal.close();
      await orm.close(true);
    },
  };
}
