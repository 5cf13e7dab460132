import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createOrm, migrate } from '../../src/db/orm';
import { startMailpit } from '../../src/mail/mailpit';
import { freePortBelow } from '../fixtures/ports';
import { startControlPlaneProcess, type ControlPlaneProcess } from './control-plane-process';
import type { PostgresServer } from './postgres';
import { startTemporalServer, type TemporalServer, type TemporalServerPorts } from './temporal-server';
import { startUiServer } from './ui-server';

/**
 * The production shape on one machine: a Temporal server on Postgres, its Web UI, a mail catcher, and the control
 * plane split by role.
 */
export interface Topology {
  temporalAddress: string;
  /** The Temporal server process itself, for the outage drills (kill, restart, freeze, thaw). */
  temporalServer: TemporalServer;
  temporalMetricsUrl: string;
  uiUrl: string;
  /** Mailpit's web UI when the topology runs its own mail catcher (no SMTP_URL given). */
  mailUiUrl?: string;
  databaseUrl: string;
  apis: ControlPlaneProcess[];
  workers: ControlPlaneProcess[];
  /** Stops every part in reverse order of starting; safe to call twice. */
  stop(): Promise<void>;
}

export interface TopologyPorts {
  temporal: TemporalServerPorts;
  ui: number;
  /** The topology's Mailpit (SMTP and web UI), when no SMTP_URL is given: one mail catcher for every process. */
  mailSmtp: number;
  mailUi: number;
  apis: number[];
  workers: number[];
  /** The Temporal SDK's metrics exporter of each worker process (loopback, appended to its /metrics). */
  workerSdkMetrics: number[];
}

export interface TopologyOptions {
  postgres: PostgresServer;
  /** Database names are prefixed with this, so several topologies can share one Postgres server. */
  databasePrefix: string;
  directory: string;
  ports: TopologyPorts;
  /** Environment every control-plane process gets (secrets, limits, HOSTED_MODE...). */
  environment: Record<string, string>;
  log?: (line: string) => void;
}

/** Fixed, documented ports for `npm run topology`; tests take free ones (freeTopologyPorts). */
export const DEFAULT_TOPOLOGY_PORTS: TopologyPorts = {
  temporal: {
    frontend: 7433,
    frontendHttp: 7443,
    frontendMembership: 6433,
    history: 7434,
    historyMembership: 6434,
    matching: 7435,
    matchingMembership: 6435,
    worker: 7439,
    workerMembership: 6439,
    metrics: 8433,
  },
  ui: 8434,
  mailSmtp: 1125,
  mailUi: 8435,
  apis: [3101, 3102],
  workers: [9501, 9502],
  workerSdkMetrics: [9511, 9512],
};

export async function freeTopologyPorts(): Promise<TopologyPorts> {
  // Every port comes from below the OS's ephemeral range (32768+): a port the OS handed out and took back can be
  // taken again as the source port of any outgoing connection before our process binds it (a worker of the drill
  // topology once died at start that way). Temporal also stores membership ports in a smallint column.
  const taken = new Set<number>();
  const next = async () => {
    for (;;) {
      const port = await freePortBelow(32768);
      if (!taken.has(port)) return taken.add(port), port;
    }
  };
  const membership = next;
  return {
    temporal: {
      frontend: await next(),
      frontendHttp: await next(),
      frontendMembership: await membership(),
      history: await next(),
      historyMembership: await membership(),
      matching: await next(),
      matchingMembership: await membership(),
      worker: await next(),
      workerMembership: await membership(),
      metrics: await next(),
    },
    ui: await next(),
    mailSmtp: await next(),
    mailUi: await next(),
    apis: [await next(), await next()],
    workers: [await next(), await next()],
    workerSdkMetrics: [await next(), await next()],
  };
}

export async function startTopology(options: TopologyOptions): Promise<Topology> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const part of stops.splice(0).reverse()) await part().catch((error) => options.log?.(`stop failed: ${String(error)}`));
  };
  try {
    await mkdir(options.directory, { recursive: true });
    const temporal = await startTemporalServer({
      postgres: options.postgres,
      databases: { persistence: `${options.databasePrefix}temporal`, visibility: `${options.databasePrefix}temporal_visibility` },
      ports: options.ports.temporal,
      directory: path.join(options.directory, 'temporal'),
      log: options.log,
    });
    stops.push(temporal.stop);
    const ui = await startUiServer({ temporalAddress: temporal.address, port: options.ports.ui, directory: path.join(options.directory, 'ui'), log: options.log });
    stops.push(ui.stop);

    const controlPlaneDatabase = `${options.databasePrefix}control_plane`;
    await options.postgres.createDatabase(controlPlaneDatabase);
    const databaseUrl = options.postgres.url(controlPlaneDatabase);
    // Migrated once here, so the processes starting side by side never race on the migrations table.
    const orm = await createOrm(databaseUrl);
    await migrate(orm);
    await orm.close(true);

    // One mail server for the fleet: without it each process would start a Mailpit of its own on the same port.
    let mailUiUrl: string | undefined;
    let smtpUrl = options.environment.SMTP_URL;
    if (!smtpUrl) {
      const mailpit = await startMailpit({
        smtpPort: options.ports.mailSmtp,
        uiPort: options.ports.mailUi,
        databaseFile: path.join(options.directory, 'mailpit', 'mailpit.db'),
        log: options.log,
      });
      stops.push(mailpit.stop);
      mailUiUrl = mailpit.uiUrl;
      smtpUrl = mailpit.smtpUrl;
    }
    const environment = { ...options.environment, SMTP_URL: smtpUrl, TEMPORAL_ADDRESS: temporal.address, DATABASE_URL: databaseUrl, DATA_DIR: options.directory };
    const start = async (name: string, role: 'api' | 'worker', port: number, extra: Record<string, string> = {}) => {
      const child = await startControlPlaneProcess({
        name,
        role,
        port,
        environment: { ...environment, ...extra },
        logFile: path.join(options.directory, `${name}.log`),
      });
      stops.push(child.stop);
      return child;
    };
    // Workers first: an API process is ready only once some worker's heartbeat is fresh.
    const workers = await Promise.all(
      options.ports.workers.map((port, index) => start(`worker-${index + 1}`, 'worker', port, { WORKER_METRICS_PORT: String(options.ports.workerSdkMetrics[index]) })),
    );
    const apis = await Promise.all(options.ports.apis.map((port, index) => start(`api-${index + 1}`, 'api', port)));
    return { temporalAddress: temporal.address, temporalServer: temporal, temporalMetricsUrl: temporal.metricsUrl, uiUrl: ui.url, mailUiUrl, databaseUrl, apis, workers, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
