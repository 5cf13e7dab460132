import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { registerSearchAttributes } from '../../src/temporal/register-search-attributes';
import { stopChild, waitUntilReachable } from '../../src/temporal/dev-server';
import { runToCompletion } from './child-processes';
import type { PostgresServer } from './postgres';

const TOOLS = path.resolve(__dirname, '../../.tools/temporal-server');
export const TEMPORAL_SERVER = path.join(TOOLS, 'server');
const SCHEMA_TOOL = path.join(TOOLS, 'sql');
const SCHEMA_DIR = path.join(TOOLS, 'schema');

/** The ports one Temporal server process binds: a gRPC and a membership port per service, the frontend's HTTP API. */
export interface TemporalServerPorts {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
  metrics: number;
}

export interface TemporalServer {
  address: string;
  metricsUrl: string;
  pid(): number | undefined;
  /** SIGKILL: the outage drill. Waits until the process is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same config and stores (after kill) and waits until its frontend answers. */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: a frozen server (a partition or a stalled disk looks the same to its clients). */
  freeze(): void;
  thaw(): void;
  stop(): Promise<void>;
}

export interface TemporalServerOptions {
  postgres: PostgresServer;
  /** Names of the persistence and visibility databases on that server; created and migrated when missing. */
  databases: { persistence: string; visibility: string };
  ports: TemporalServerPorts;
  /** Where its config files and logs go. */
  directory: string;
  historyShards?: number;
  namespace?: string;
  log?: (line: string) => void;
}

/**
 * The Temporal server itself (not the CLI's dev server): built from go.temporal.io/server at the version the CLI
 * embeds, with Postgres persistence and SQL visibility, several history shards, the namespace and the project's search
 * attributes registered. Applying the schema again only brings it up to date, so a restart keeps every workflow.
 */
export async function startTemporalServer(options: TemporalServerOptions): Promise<TemporalServer> {
  const namespace = options.namespace ?? 'default';
  await applySchema(options.postgres, options.databases.persistence, 'temporal', options.log);
  await applySchema(options.postgres, options.databases.visibility, 'visibility', options.log);
  const configDirectory = path.join(options.directory, 'config');
  await mkdir(configDirectory, { recursive: true });
  await writeFile(path.join(configDirectory, 'production.yaml'), serverConfig(options));
  await writeFile(path.join(configDirectory, 'dynamicconfig.yaml'), DYNAMIC_CONFIG);

  const address = `127.0.0.1:${options.ports.frontend}`;
  let child: ChildProcess | undefined;
  const launch = async () => {
    const started = spawn(TEMPORAL_SERVER, ['--root', options.directory, '--config', 'config', '--env', 'production', '--allow-no-auth', 'start'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    const logFile = createWriteStream(path.join(options.directory, 'server.log'), { flags: 'a' });
    for (const stream of [started.stdout, started.stderr]) {
      stream?.pipe(logFile);
      stream?.on('data', (chunk: Buffer) => options.log?.(chunk.toString().trim()));
    }
    try {
      await waitUntilReachable(address, started, 120_000);
    } catch (error) {
      started.kill('SIGKILL');
      throw error;
    }
  };
  await launch();
  try {
    await ensureNamespace(address, namespace);
  } catch (error) {
    child?.kill('SIGKILL');
    throw error;
  }
  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  return {
    address,
    metricsUrl: `http://127.0.0.1:${options.ports.metrics}/metrics`,
    pid: () => child?.pid,
    async kill() {
      if (!running()) return;
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child!.kill('SIGKILL');
      await exited;
    },
    restart: launch,
    freeze: () => void (running() && child!.kill('SIGSTOP')),
    thaw: () => void (running() && child!.kill('SIGCONT')),
    async stop() {
      if (!child) return;
      // A frozen server never sees SIGTERM: thawed first, so the orderly stop is not a 20 s wait for SIGKILL.
      if (running()) child.kill('SIGCONT');
      await stopChild(child, 20_000);
    },
  };
}

async function applySchema(postgres: PostgresServer, database: string, schema: 'temporal' | 'visibility', log?: (line: string) => void): Promise<void> {
  await postgres.createDatabase(database);
  const common = ['--plugin', 'postgres12', '--ep', postgres.host, '-p', String(postgres.port), '-u', postgres.user, '--pw', postgres.password, '--db', database];
  if (!(await hasSchemaVersionTable(postgres, database))) {
    await runToCompletion(SCHEMA_TOOL, [...common, 'setup-schema', '-v', '0.0'], log);
  }
  await runToCompletion(SCHEMA_TOOL, [...common, 'update-schema', '-d', path.join(SCHEMA_DIR, schema, 'versioned')], log);
}

async function hasSchemaVersionTable(postgres: PostgresServer, database: string): Promise<boolean> {
  const client = new PgClient({ host: postgres.host, port: postgres.port, user: postgres.user, password: postgres.password, database });
  await client.connect();
  try {
    const result = await client.query(`select 1 from information_schema.tables where table_name = 'schema_version'`);
    return (result.rowCount ?? 0) > 0;
  } finally {
    await client.end();
  }
}

/** Registers the namespace if it is missing, then the search attributes, and waits until visibility can filter by them. */
async function ensureNamespace(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    try {
      await connection.workflowService.describeNamespace({ namespace });
    } catch {
      await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('3 days') });
    }
    const client = new Client({ connection, namespace });
    // A new namespace reaches every frontend cache within seconds; until then registering attributes fails.
    await retryFor(30_000, () => registerSearchAttributes(client, namespace));
    // So does a new search attribute: the first query naming it would otherwise be refused.
    await retryFor(30_000, async () => {
      await client.workflow.count(`TenantId = "00000000-0000-0000-0000-000000000000" AND RunPhase = "CREATED"`);
    });
  } finally {
    await connection.close();
  }
}

async function retryFor<T>(timeoutMs: number, attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** The server's static config: go.temporal.io/server's config/development-postgres12.yaml with our ports and stores. */
function serverConfig(options: TemporalServerOptions): string {
  const { postgres, ports } = options;
  const store = (database: string, maxConns: number) => `
      sql:
        pluginName: "postgres12"
        databaseName: "${database}"
        connectAddr: "${postgres.host}:${postgres.port}"
        connectProtocol: "tcp"
        user: "${postgres.user}"
        password: "${postgres.password}"
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: "1h"`;
  const service = (grpc: number, membership: number, http?: number) => `
    rpc:
      grpcPort: ${grpc}
      membershipPort: ${membership}
      bindOnLocalHost: true${http ? `\n      httpPort: ${http}` : ''}`;
  return `log:
  stdout: true
  level: warn

persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: ${options.historyShards ?? 4}
  datastores:
    postgres-default:${store(options.databases.persistence, 10)}
    postgres-visibility:${store(options.databases.visibility, 5)}

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
  metrics:
    prometheus:
      framework: "tally"
      timerType: "histogram"
      listenAddress: "127.0.0.1:${ports.metrics}"

services:
  frontend:${service(ports.frontend, ports.frontendMembership, ports.frontendHttp)}
  history:${service(ports.history, ports.historyMembership)}
  matching:${service(ports.matching, ports.matchingMembership)}
  worker:${service(ports.worker, ports.workerMembership)}

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "127.0.0.1:${ports.frontend}"

dcRedirectionPolicy:
  policy: "noop"

dynamicConfigClient:
  filepath: "${path.join(options.directory, 'config', 'dynamicconfig.yaml')}"
  pollInterval: "10s"
`;
}

/** Only what differs from the server's defaults, each for a reason. */
const DYNAMIC_CONFIG = `# Workflow ids such as provision:<slug> and run:<uuid> stay well under this; the default is the same.
limit.maxIDLength:
  - value: 255
# The control plane's entity workflows answer updates; this is on by default, stated so a config change shows.
frontend.enableUpdateWorkflowExecution:
  - value: true
`;
