import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadConfig, type Config } from '../src/config';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres';
import { createOrm, type Orm } from '../src/db/orm';
import { freePort } from '../tools/fixtures/ports';
import { postgresAt } from '../tools/topology/postgres';
import { freeTopologyPorts, startTopology } from '../tools/topology/topology';
import { installQuietRuntime, startBenchStack } from './stack';

/** What a benchmark drives: a Temporal client and the database, the API process(es), and the settings of the run. */
export interface BenchTarget {
  name: string;
  client: Client;
  orm: Orm;
  config: Config;
  temporalAddress: string;
  /** The API processes, round robin, as a load balancer spreads requests. */
  apiUrls: string[];
  stop(): Promise<void>;
}

export type BenchTargetKind = 'dev' | 'fleet';

/** BENCH_SERVERS=dev,fleet (the default): the same benchmark on each, one after the other, in one run. */
export function benchTargetKinds(environment: NodeJS.ProcessEnv = process.env): BenchTargetKind[] {
  const kinds = (environment.BENCH_SERVERS ?? 'dev,fleet').split(',').map((kind) => kind.trim());
  for (const kind of kinds) if (kind !== 'dev' && kind !== 'fleet') throw new Error(`BENCH_SERVERS: unknown server "${kind}" (dev or fleet)`);
  return kinds as BenchTargetKind[];
}

export function startBenchTarget(kind: BenchTargetKind): Promise<BenchTarget> {
  return kind === 'dev' ? devTarget() : fleetTarget();
}

/** `npm start`'s shape: the CLI dev server (SQLite), the API and worker in one process. */
async function devTarget(): Promise<BenchTarget> {
  const stack = await startBenchStack();
  return {
    name: 'dev server, API and worker in one process',
    client: stack.controlPlane.client,
    orm: stack.controlPlane.orm,
    config: stack.config,
    temporalAddress: stack.config.TEMPORAL_ADDRESS!,
    apiUrls: [stack.controlPlane.url!],
    stop: stack.stop,
  };
}

/**
 * `npm run topology`'s shape: the Temporal server on Postgres with SQL visibility, 2 API and 2 worker processes. The
 * benchmark process is only a client (and the baseline's worker), as a load generator would be.
 */
async function fleetTarget(): Promise<BenchTarget> {
  installQuietRuntime();
  const dataDirectory = await mkdtemp(path.join(tmpdir(), 'bench-fleet-'));
  await chmod(dataDirectory, 0o755); // Postgres runs as its own user and must reach its data directory
  const database = await startEmbeddedPostgres({ dataDirectory: path.join(dataDirectory, 'pg'), port: await freePort(), database: 'bench' });
  const topology = await startTopology({
    postgres: postgresAt(database.url),
    databasePrefix: 'bench_',
    directory: path.join(dataDirectory, 'topology'),
    ports: await freeTopologyPorts(),
    environment: {
      LOG_LEVEL: 'warn',
      HOSTED_MODE: 'true',
      AUTH_TOKEN_SECRET: randomBytes(32).toString('hex'),
      SIGNUP_RATE_LIMIT_PER_HOUR: '100000',
      GLOBAL_RATE_LIMIT_PER_MINUTE: '0',
      ANONYMOUS_RATE_LIMIT_PER_IP_PER_MINUTE: '10000000',
      OPERATOR_RATE_LIMIT_PER_MINUTE: '10000000',
      TENANT_REQUEST_BUDGET_PERCENT: '100000',
      DATABASE_POOL_MAX: '10',
    },
  });
  const connection = await Connection.connect({ address: topology.temporalAddress });
  const orm = await createOrm(topology.databaseUrl);
  return {
    name: 'Temporal server on Postgres, 2 API and 2 worker processes',
    client: new Client({ connection }),
    orm,
    config: loadConfig({ ...process.env, TEMPORAL_ADDRESS: topology.temporalAddress, DATABASE_URL: topology.databaseUrl }),
    temporalAddress: topology.temporalAddress,
    apiUrls: topology.apis.map((api) => api.url),
    async stop() {
      await orm.close(true);
      await connection.close();
      await topology.stop();
      await database.stop();
      await rm(dataDirectory, { recursive: true, force: true });
    },
  };
}

/** Runs the benchmark on each server of BENCH_SERVERS in turn, each stopped before the next starts. */
export async function onEachBenchTarget(benchmark: (target: BenchTarget) => Promise<void>): Promise<void> {
  for (const kind of benchTargetKinds()) {
    const target = await startBenchTarget(kind);
    try {
      await benchmark(target);
    } finally {
      await target.stop();
    }
  }
}
