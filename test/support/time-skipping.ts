import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { registerSearchAttributes } from '../../src/temporal/register-search-attributes';

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
