import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Runtime, DefaultLogger, type ActivityInterceptorsFactory, type Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { loadConfig, type Config } from '../../src/config';
import { createOrm, type Orm } from '../../src/db/orm';
import { postgresEventStore } from '../../src/db/event-store';
import { EventSink } from '../../src/observability/event-sink';
import { createLogger } from '../../src/observability/logger';
import { createMetrics, type Metrics } from '../../src/observability/metrics';
import { createControlPlaneWorker, WORKFLOWS_PATH } from '../../workers/control-plane-worker';
import type { AccountMailDependencies } from '../../activities/account-mail';
import { accountMailFromConfig } from '../../src/mail/from-config';
import { createSmtpMailer } from '../../src/mail/mailer';

// Only warnings from the SDK: its info lines would bury the test report.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // Already installed by an earlier file in this process.
}

export function testDatabaseUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is unset: run the suite through jest (global setup starts Postgres)');
  return url;
}

export function testTemporalAddress(): string {
  const address = process.env.TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('TEST_TEMPORAL_ADDRESS is unset: run the suite through jest (global setup starts Temporal)');
  return address;
}

export function testSmtpUrl(): string {
  const url = process.env.TEST_SMTP_URL;
  if (!url) throw new Error('TEST_SMTP_URL is unset: run the suite through jest (global setup starts Mailpit)');
  return url;
}

/** A config as the app would parse it, aimed at the test servers. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: testDatabaseUrl(),
    TEMPORAL_ADDRESS: testTemporalAddress(),
    HOSTED_MODE: 'true',
    SIGNUP_RATE_LIMIT_PER_HOUR: '100000',
    // The suite speaks from one address and a few credentials; tests of the request budgets set their own.
    ANONYMOUS_RATE_LIMIT_PER_IP_PER_MINUTE: '10000000',
    OPERATOR_RATE_LIMIT_PER_MINUTE: '10000000',
    TENANT_REQUEST_BUDGET_PERCENT: '100000',
    SMTP_URL: testSmtpUrl(),
    ...overrides,
  });
}

export { uniqueSlug } from '../../tools/fixtures/slugs';
import { ActivityFaults } from '../../tools/fixtures/activity-faults';

export const uniqueTaskQueue = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

export const testOrm = (): Promise<Orm> => createOrm(testDatabaseUrl());

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** One workflow bundle per test file: bundling is the slow part of starting a worker. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  return bundle;
}

export interface DevServerHarness {
  client: Client;
  connection: NativeConnection;
  close(): Promise<void>;
}

export async function connectToDevServer(): Promise<DevServerHarness> {
  const address = testTemporalAddress();
  const clientConnection = await Connection.connect({ address });
  const connection = await NativeConnection.connect({ address });
  return {
    client: new Client({ connection: clientConnection }),
    connection,
    async close() {
      await clientConnection.close();
      await connection.close();
    },
  };
}

export async function startWorker(options: {
  connection: NativeConnection;
  taskQueue: string;
  orm: Orm;
  metrics?: Metrics;
  namespace?: string;
  events?: EventSink;
  /** A bundle of other workflows (test fixtures); the project's own otherwise. */
  workflowBundle?: WorkflowBundleWithSourceMap;
  /** Test-only fault injection, inside the product's own activity interceptors. */
  activityInterceptors?: ActivityInterceptorsFactory[];
  /** Where mail goes; by default the suite's Mailpit, with the test config's link secret. */
  mail?: AccountMailDependencies;
}) {
  const metrics = options.metrics ?? createMetrics();
  return createControlPlaneWorker({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue,
    orm: options.orm,
    metrics,
    events: options.events ?? new EventSink({ store: postgresEventStore(options.orm), logger: createLogger('silent'), metrics }),
    workflowBundle: options.workflowBundle ?? (await workflowBundle()),
    activityInterceptors: options.activityInterceptors,
    mail: options.mail ?? testMail(),
  });
}

/**
 * Mail to the suite's Mailpit with the test config's link secret, a connection per mail: a pool's idle connection
 * would outlive the test file that opened it.
 */
export function testMail(): AccountMailDependencies {
  const config = testConfig({ AUTH_TOKEN_SECRET: 'test-secret-test-secret-test-secret-0123456789' });
  return { ...accountMailFromConfig(config), mailer: createSmtpMailer({ smtpUrl: testSmtpUrl(), from: config.MAIL_FROM, pool: false }) };
}

export interface DevServerWorker {
  temporal: DevServerHarness;
  orm: Orm;
  worker: Worker;
  /** Faults a test plans for a workflow of this worker, by workflow id. */
  faults: ActivityFaults;
  close(): Promise<void>;
}

/** The usual workflow-test rig: a client and a running worker on the shared dev server, and an ORM of its own. */
export async function startDevServerWorker(taskQueue: string): Promise<DevServerWorker> {
  const temporal = await connectToDevServer();
  const orm = await testOrm();
  const faults = new ActivityFaults();
  const worker = await startWorker({ connection: temporal.connection, taskQueue, orm, activityInterceptors: [faults.interceptor] });
  const workerRun = worker.run();
  return {
    temporal,
    orm,
    worker,
    faults,
    async close() {
      worker.shutdown();
      await workerRun;
      await temporal.close();
      await orm.close(true);
    },
  };
}
