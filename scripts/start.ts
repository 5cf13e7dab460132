/**
 * `npm start`: the whole system on one machine. Starts what is not configured from outside (Temporal dev server
 * with Web UI, embedded Postgres, Mailpit as the mail server), migrates, runs the worker and the API in this process, and on SIGINT/SIGTERM
 * stops everything in reverse order so no child outlives it and no data is lost.
 */
import path from 'node:path';
import { ConfigError, loadConfig, temporalAddress, usesEmbeddedPostgres, usesLocalMail, usesLocalTemporal } from '../src/config';
import { startMailpit } from '../src/mail/mailpit';
import { startControlPlane, workerMetricsAddress } from '../src/control-plane';
import { installTemporalRuntime } from '../src/observability/temporal-runtime';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres';
import { createLogger } from '../src/observability/logger';
import { connectClient } from '../src/temporal/connection';
import { startDevServer } from '../src/temporal/dev-server';
import { registerSearchAttributes } from '../src/temporal/register-search-attributes';
import { ensureLifecycleSupervisorSchedule, ensureReconcilerSchedule, ensureRunReservationSweepSchedule } from '../src/temporal/schedules';

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    // Before anything starts or listens: a refused configuration leaves no process, port or data directory behind.
    if (error instanceof ConfigError) {
      console.error(`${error.message}\n(npm run doctor prints this check without starting anything)`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.LOG_LEVEL);
  installTemporalRuntime(logger, config.PROCESS_ROLES.includes('worker') ? workerMetricsAddress(config) : undefined);
  const stops: Array<{ name: string; stop: () => Promise<void> }> = [];
  let stopping = false;
  const shutdown = async (signal: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    for (const part of stops.reverse()) {
      try {
        await part.stop();
        logger.info(`${part.name} stopped`);
      } catch (error) {
        logger.error({ err: error }, `${part.name} did not stop cleanly`);
      }
    }
    process.exit(exitCode);
  };
  // embedded-postgres installs an exit hook that stops Postgres and exits the process on these signals, which would
  // cut this ordered shutdown short and orphan the Temporal dev server: this process owns its signals.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.removeAllListeners(signal);
    process.on(signal, () => void shutdown(signal));
  }

  try {
    let uiUrl: string | undefined;
    if (usesLocalTemporal(config)) {
      const devServer = await startDevServer({
        port: config.TEMPORAL_DEV_PORT,
        uiPort: config.TEMPORAL_UI_PORT,
        databaseFile: path.join(config.DATA_DIR, 'temporal', 'temporal.db'),
        log: (line) => logger.debug({ component: 'temporal' }, line),
      });
      stops.push({ name: 'temporal dev server', stop: devServer.stop });
      uiUrl = devServer.uiUrl;
    }
    const client = await connectClient(config);
    const added = await registerSearchAttributes(client, config.TEMPORAL_NAMESPACE);
    if (added.length > 0) logger.info({ added }, 'search attributes registered');
    await client.connection.close();

    let databaseUrl = config.DATABASE_URL;
    if (usesEmbeddedPostgres(config)) {
      const database = await startEmbeddedPostgres({
        dataDirectory: path.join(config.DATA_DIR, 'postgres'),
        port: config.EMBEDDED_PG_PORT,
        database: 'control_plane',
        log: (line) => logger.debug({ component: 'postgres' }, line),
      });
      stops.push({ name: 'postgres', stop: database.stop });
      databaseUrl = database.url;
    }

    // Without an SMTP server the product's mail (verification, resets, invitations) goes to a local catcher.
    let mailUiUrl: string | undefined;
    if (usesLocalMail(config)) {
      const mailpit = await startMailpit({
        smtpPort: config.MAILPIT_SMTP_PORT,
        uiPort: config.MAILPIT_UI_PORT,
        databaseFile: path.join(config.DATA_DIR, 'mailpit', 'mailpit.db'),
        log: (line) => logger.debug({ component: 'mailpit' }, line),
      });
      stops.push({ name: 'mailpit', stop: mailpit.stop });
      mailUiUrl = mailpit.uiUrl;
      config = { ...config, SMTP_URL: mailpit.smtpUrl };
    }

    const controlPlane = await startControlPlane(config, databaseUrl!, logger);
    stops.push({ name: 'control plane', stop: controlPlane.stop });
    // The run-audit reconciler runs on a Temporal Schedule; creating it again only brings its interval up to date.
    await ensureReconcilerSchedule(controlPlane.client, { taskQueue: config.TEMPORAL_TASK_QUEUE, intervalSeconds: config.RECONCILER_INTERVAL_SECONDS });
    await ensureLifecycleSupervisorSchedule(controlPlane.client, { taskQueue: config.TEMPORAL_TASK_QUEUE, defaultRetentionDays: config.TENANT_RETENTION_DAYS });
    await ensureRunReservationSweepSchedule(controlPlane.client, { taskQueue: config.TEMPORAL_TASK_QUEUE });

    const lines = [
      'control plane is up',
      controlPlane.url &&
        `  ${config.PROCESS_ROLES.includes('api') ? 'API:            ' : 'Worker probes:  '}  ${controlPlane.url}  (health ${controlPlane.url}/readyz, metrics ${controlPlane.url}/metrics)`,
      `  Roles:            ${config.PROCESS_ROLES.join(', ')}`,
      `  Node.js:          ${process.version}`,
      uiUrl ? `  Temporal Web UI:  ${uiUrl}` : `  Temporal:         ${temporalAddress(config)} (namespace ${config.TEMPORAL_NAMESPACE})`,
      `  Postgres:         ${usesEmbeddedPostgres(config) ? `embedded on 127.0.0.1:${config.EMBEDDED_PG_PORT}, data in ${path.join(config.DATA_DIR, 'postgres')}` : 'DATABASE_URL'}`,
      `  Mail:             ${mailUiUrl ? `Mailpit catches it: ${mailUiUrl} (SMTP ${config.SMTP_URL})` : 'SMTP_URL'}`,
      `  Signup:           ${config.HOSTED_MODE ? 'on (HOSTED_MODE=true)' : 'off (set HOSTED_MODE=true to serve POST /api/v1/signup)'}`,
      '  Stop with Ctrl-C.',
    ].filter(Boolean);
    console.log(lines.join('\n'));
  } catch (error) {
    logger.fatal({ err: error }, 'start failed');
    await shutdown('start failure', 1);
  }
}

void main();
