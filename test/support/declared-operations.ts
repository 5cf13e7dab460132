import { Client, Connection } from '@temporalio/client';
import type { Express } from 'express';
import { createAccessControl } from '../../src/access-control';
import { buildApp, type AppDependencies } from '../../src/api/app';
import { openApiPath } from '../../src/api/openapi';
import { loadConfig } from '../../src/config';
import type { Orm } from '../../src/db/orm';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import { createAccountServices } from '../../src/services/accounts';
import { createLifecycleService } from '../../src/services/lifecycle-service';
import { createRunService } from '../../src/services/run-service';
import { createSignupService } from '../../src/services/signup-service';
import { operationName } from './openapi-fuzz';
import { routeTable } from './routes';

/** Stands in for the database while the app is only built: any use of it at build time is a bug worth seeing. */
const unusedOrm = new Proxy({} as Orm, {
  get(_target, property) {
    throw new Error(`the app touched the database (orm.${String(property)}) while being built`);
  },
});

/**
 * Every operation the full app declares (hosted mode, runs, lifecycle and accounts mounted), named as the OpenAPI document names
 * it. Synchronous and offline, so a test file can make one test per operation before any server is up; the fuzz
 * suites then check that the document the running app serves lists the same operations.
 */
export function declaredOperationNames(): string[] {
  return routeTable(offlineApp()).map((entry) => operationName(entry.method, openApiPath(entry.path)));
}

/**
 * The full app (hosted mode, runs and lifecycle mounted) built without a database or a Temporal server: enough to list
 * its routes and serve its OpenAPI document, and nothing more.
 */
export function offlineApp(extra: Partial<AppDependencies> = {}): Express {
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', HOSTED_MODE: 'true' });
  const logger = createLogger('silent');
  const metrics = createMetrics();
  // Never connects: nothing is called while the routes are only being listed.
  const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
  return buildApp({
    logger,
    metrics,
    signups: createSignupService({ client, taskQueue: config.TEMPORAL_TASK_QUEUE }),
    readiness: {},
    hostedMode: true,
    signupRatePerHour: config.SIGNUP_RATE_LIMIT_PER_HOUR,
    orm: unusedOrm,
    access: createAccessControl({ config, orm: unusedOrm, logger, metrics }),
    runs: createRunService({ client, orm: unusedOrm, taskQueue: config.TEMPORAL_TASK_QUEUE }),
    lifecycle: createLifecycleService({ client, orm: unusedOrm, taskQueue: config.TEMPORAL_TASK_QUEUE, retentionDays: config.TENANT_RETENTION_DAYS }),
    accounts: createAccountServices({ client, orm: unusedOrm, config }),
    ...extra,
  });
}
