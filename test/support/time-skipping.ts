import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Orm } from '../../src/db/orm';
import { registerSearchAttributes } from '../../src/temporal/register-search-attributes';
import { ActivityFaults } from '../../tools/fixtures/activity-faults';
import { startWorker, testOrm } from './stack';

/** Temporal's Java time-skipping test server, installed by scripts/install-tools.sh; never the SDK's download. */
export const TIME_SKIPPING_SERVER = path.resolve(__dirname, '../../tools/test-server/temporal-test-server');

/**
 * One time-skipping environment per test file (its clock is shared by everything in it). The project's search
 * attributes are registered on it, so workflows that upsert them run here as they do on the dev server.
 */
export async function createTimeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  const environment = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: TIME_SKIPPING_SERVER } },
  });
  await registerSearchAttributes(environment.client, environment.namespace ?? 'default');
  return environment;
}

export interface TimeSkippingRig {
  environment: TestWorkflowEnvironment;
  orm: Orm;
  faults: ActivityFaults;
  close(): Promise<void>;
}

/** A time-skipping environment with the project's worker running on `taskQueue` and an ORM of its own. */
export async function startTimeSkippingRig(taskQueue: string): Promise<TimeSkippingRig> {
  const environment = await createTimeSkippingEnvironment();
  const orm = await testOrm();
  const faults = new ActivityFaults();
  const worker = await startWorker({ connection: environment.nativeConnection, taskQueue, orm, activityInterceptors: [faults.interceptor] });
  const workerRun = worker.run();
  return {
    environment,
    orm,
    faults,
    async close() {
      worker.shutdown();
      await workerRun;
      await environment.teardown();
      await orm.close(true);
    },
  };
}
