import type { Server } from 'node:http';
import type { Client } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { createAccessControl } from './access-control';
import type { Express } from 'express';
import { buildApp } from './api/app';
import { buildOperationsApp } from './api/operations-app';
import { answerClientErrorsWithProblems } from './api/client-errors';
import type { Config } from './config';
import { createOrm, migrate, type Orm } from './db/orm';
import { killSwitchesFrom } from './gates/kill-switch-gate';
import type { Logger } from './observability/logger';
import { EventSink } from './observability/event-sink';
import { createMetrics, registerActiveTenantsGauge, registerRunAuditBacklogGauges, type Metrics } from './observability/metrics';
import { readRunAuditBacklog } from './db/run-audit-queries';
import { postgresEventStore } from './db/event-store';
import { readinessChecks } from './readiness';
import { createLifecycleService } from './services/lifecycle-service';
import { createRunService } from './services/run-service';
import { createSignupService } from './services/signup-service';
import { connectClient, connectWorker } from './temporal/connection';
import { temporalWorkerMetrics } from './observability/temporal-runtime';
import { startWorkerHeartbeat, type WorkerHeartbeat } from './observability/worker-heartbeat';
import { createControlPlaneWorker } from '../workers/control-plane-worker';
import { accountMailFromConfig } from './mail/from-config';
import { verificationSettingsOf } from './services/accounts/settings';
import { createAccountServices } from './services/accounts';

export interface RunningControlPlane {
  orm: Orm;
  client: Client;
  metrics: Metrics;
  events: EventSink;
  worker?: Worker;
  server?: Server;
  url?: string;
  stop(): Promise<void>;
}

/**
 * Brings up this process's roles (API, worker or both) against an already running Postgres and Temporal:
 * migrates, connects once, and returns one stop() that drains in the right order.
 */
export async function startControlPlane(config: Config, databaseUrl: string, logger: Logger): Promise<RunningControlPlane> {
  const metrics = createMetrics();
  const applied = await migrateOnce(databaseUrl);
  if (applied.length > 0) logger.info({ applied }, 'migrations applied');
  const orm = await createOrm(databaseUrl, config.DATABASE_POOL_MAX, { queryTimeoutMs: config.DATABASE_QUERY_TIMEOUT_SECONDS * 1000 });
  registerActiveTenantsGauge(metrics, () => countActiveTenants(orm));
  registerRunAuditBacklogGauges(metrics, () => readRunAuditBacklog(orm.em.fork()));
  const client = await connectClient(config);
  const events = new EventSink({ store: postgresEventStore(orm), logger, metrics });

  let workerConnection: NativeConnection | undefined;
  let worker: Worker | undefined;
  let workerRun: Promise<void> | undefined;
  let heartbeat: WorkerHeartbeat | undefined;
  const mail = accountMailFromConfig(config);
  if (config.PROCESS_ROLES.includes('worker')) {
    workerConnection = await connectWorker(config);
    worker = await createControlPlaneWorker({
      connection: workerConnection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      orm,
      metrics,
      events,
      killSwitches: killSwitchesFrom(config),
      mail,
    });
    workerRun = worker.run().catch((error) => logger.fatal({ err: error }, 'worker stopped with an error'));
    // API-only processes judge readiness by this row: Temporal lists a dead worker's poller for minutes.
    heartbeat = await startWorkerHeartbeat({
      orm,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      workerIdentity: worker.options.identity,
      isRunning: () => worker?.getState() === 'RUNNING',
      logger,
    });
  }

  const readiness = readinessChecks({ orm, client, taskQueue: config.TEMPORAL_TASK_QUEUE, worker });

  let server: Server | undefined;
  let url: string | undefined;
  const workerMetrics = worker ? () => temporalWorkerMetrics(workerMetricsAddress(config)) : undefined;
  if (!config.PROCESS_ROLES.includes('api')) {
    // A worker-only process still answers its probes and serves the counters its workflows and activities made.
    const app = buildOperationsApp({ metrics, readiness, extraMetrics: workerMetrics, logger, requestDeadlineSeconds: config.REQUEST_DEADLINE_SECONDS });
    server = await listen(app, config.WORKER_HTTP_PORT, config.API_HOST);
    url = `http://${config.API_HOST}:${config.WORKER_HTTP_PORT}`;
  } else {
    const app = buildApp({
      logger,
      metrics,
      signups: createSignupService({ client, orm, taskQueue: config.TEMPORAL_TASK_QUEUE, retentionDays: config.TENANT_RETENTION_DAYS, verification: verificationSettingsOf(config) }),
      readiness,
      hostedMode: config.HOSTED_MODE,
      signupRatePerHour: config.SIGNUP_RATE_LIMIT_PER_HOUR,
      extraMetrics: workerMetrics,
      orm,
      access: createAccessControl({ config, orm, logger, metrics, events, client }),
      runs: createRunService({ client, orm, taskQueue: config.TEMPORAL_TASK_QUEUE }),
      lifecycle: createLifecycleService({ client, orm, taskQueue: config.TEMPORAL_TASK_QUEUE, retentionDays: config.TENANT_RETENTION_DAYS }),
      onboardingStallHours: config.ONBOARDING_STALL_HOURS,
      retentionFloorDays: config.TENANT_RETENTION_FLOOR_DAYS,
      trustProxy: config.TRUST_PROXY_HOPS,
      publicBaseUrl: config.PUBLIC_BASE_URL,
      accounts: createAccountServices({ client, orm, config }),
      requestDeadlineSeconds: config.REQUEST_DEADLINE_SECONDS,
      temporal: client.connection,
    });
    server = await listen(app, config.API_PORT, config.API_HOST);
    url = `http://${config.API_HOST}:${config.API_PORT}`;
  }

  return {
    orm,
    client,
    metrics,
    events,
    worker,
    server,
    url,
    async stop() {
      // Stop taking requests, let in-flight activities finish, then release connections.
      if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
      // Before the worker drains: other processes' /readyz stop counting it now, not 30 s from now.
      await heartbeat?.stop();
      if (worker) {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await workerRun;
      }
      await events.close();
      mail.mailer.close();
      await workerConnection?.close();
      await client.connection.close();
      await orm.close(true);
    },
  };
}

function listen(app: Express, port: number, host: string): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    const listening = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(listening)));
    answerClientErrorsWithProblems(listening);
  });
}

/** Migrations on a connection of their own, without the statement bounds requests get: DDL on a large table may take long. */
async function migrateOnce(databaseUrl: string): Promise<string[]> {
  const migrations = await createOrm(databaseUrl, 2);
  try {
    return await migrate(migrations);
  } finally {
    await migrations.close(true);
  }
}

async function countActiveTenants(orm: Orm): Promise<number> {
  const rows = await orm.em.fork().execute<Array<{ n: string }>>(`select count(*) as n from tenant where status = 'active'`);
  return Number(rows[0]?.n ?? 0);
}

export const workerMetricsAddress = (config: Config) => `127.0.0.1:${config.WORKER_METRICS_PORT}`;
