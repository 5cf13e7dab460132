/**
 * `npm run topology`: the production shape on one machine. The Temporal server built from go.temporal.io/server (Postgres
 * persistence, SQL visibility, 4 history shards) with its Web UI, and the control plane as 2 API processes and 2 worker
 * processes, each its own OS process with its own ports, all on one Postgres (embedded unless DATABASE_URL names a
 * server whose user may create databases). Ctrl-C stops everything in reverse order; nothing is left behind.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, loadConfig } from '../src/config';
import { embeddedPostgresServer } from '../tools/topology/embedded-postgres-server';
import { postgresAt, type PostgresServer } from '../tools/topology/postgres';
import { DEFAULT_TOPOLOGY_PORTS, startTopology, type Topology } from '../tools/topology/topology';

const DIRECTORY = path.resolve(__dirname, '../.data/topology');
const EMBEDDED_POSTGRES_PORT = 5434;

async function main() {
  await mkdir(DIRECTORY, { recursive: true });
  let postgres: PostgresServer | undefined;
  let topology: Topology | undefined;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the topology`);
    await topology?.stop();
    await postgres?.stop();
    process.exit(signal === 'start failure' ? 1 : 0);
  };
  // embedded-postgres hooks these signals to stop Postgres and exit at once: this process owns them instead.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.removeAllListeners(signal);
    process.on(signal, () => void stop(signal));
  }
  const environment = { ...inheritedEnvironment(), AUTH_TOKEN_SECRET: process.env.AUTH_TOKEN_SECRET ?? (await sharedTokenSecret()) };
  refuseWhatEveryProcessWouldRefuse(environment);
  try {
    postgres = process.env.DATABASE_URL
      ? postgresAt(process.env.DATABASE_URL)
      : await embeddedPostgresServer({ dataDirectory: path.join(DIRECTORY, 'postgres'), port: EMBEDDED_POSTGRES_PORT });
    topology = await startTopology({
      postgres,
      databasePrefix: '',
      directory: DIRECTORY,
      ports: DEFAULT_TOPOLOGY_PORTS,
      environment,
      log: process.env.LOG_LEVEL === 'debug' ? (line) => console.log(line) : undefined,
    });
    console.log(
      [
        'the production shape is up',
        `  Temporal server:  ${topology.temporalAddress} (Postgres persistence and SQL visibility; its metrics ${topology.temporalMetricsUrl})`,
        `  Temporal Web UI:  ${topology.uiUrl}`,
        `  Mail:             ${topology.mailUiUrl ? `Mailpit catches it: ${topology.mailUiUrl}` : 'SMTP_URL'}`,
        ...topology.apis.map((api) => `  ${api.name}:            ${api.url}  (pid ${api.pid()}; /readyz, /metrics)`),
        ...topology.workers.map((worker) => `  ${worker.name}:         ${worker.url}  (pid ${worker.pid()}; /readyz, /metrics)`),
        `  Postgres:         ${process.env.DATABASE_URL ? 'DATABASE_URL' : `embedded on 127.0.0.1:${EMBEDDED_POSTGRES_PORT}`}`,
        `  Logs:             ${DIRECTORY}/<process>.log`,
        '  Stop with Ctrl-C.',
      ].join('\n'),
    );
  } catch (error) {
    console.error('the topology did not start:', error);
    await stop('start failure');
  }
}

/** The operator's own settings (HOSTED_MODE, limits, OPERATOR_TOKENS...) reach every process; ports and roles do not. */
function inheritedEnvironment(): Record<string, string> {
  const own = ['PROCESS_ROLES', 'API_PORT', 'WORKER_HTTP_PORT', 'WORKER_METRICS_PORT', 'TEMPORAL_ADDRESS', 'DATABASE_URL', 'DATA_DIR'];
  return Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined && !own.includes(entry[0])));
}

/**
 * Each process checks its configuration as `npm start` does (NODE_ENV=production refuses the dev parts): checked here
 * first, with what this script gives every process (its Temporal server, database and mail server), a refusal is one
 * message before anything starts instead of four exit codes in four logs.
 */
function refuseWhatEveryProcessWouldRefuse(environment: Record<string, string>): void {
  const suppliedByTheTopology = {
    TEMPORAL_ADDRESS: `127.0.0.1:${DEFAULT_TOPOLOGY_PORTS.temporal.frontend}`,
    DATABASE_URL: 'postgresql://127.0.0.1/control_plane',
    SMTP_URL: environment.SMTP_URL ?? `smtp://127.0.0.1:${DEFAULT_TOPOLOGY_PORTS.mailSmtp}`,
  };
  try {
    loadConfig({ ...environment, ...suppliedByTheTopology });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`the topology did not start: its processes would refuse this configuration\n${error.message}`);
    process.exit(2);
  }
}

/** Every API process must sign and accept the same tokens; kept across restarts so sessions survive them. */
async function sharedTokenSecret(): Promise<string> {
  const file = path.join(DIRECTORY, 'auth-token-secret');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const secret = randomBytes(32).toString('base64url');
  await writeFile(file, secret, { mode: 0o600 });
  return secret;
}

void main();
