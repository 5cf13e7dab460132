import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { postgresAt, type PostgresServer } from '../../tools/topology/postgres';
import { freeTopologyPorts, startTopology, type Topology } from '../../tools/topology/topology';
import { KNOWN_PASSWORD, OPERATORS } from './auth';
import { testDataDirectory } from './ports';
import { testDatabaseUrl } from './stack';
import { waitFor } from './wait';

/** Where a test's topology keeps its files: under the run's data directory, which the global teardown removes. */
export const topologyDirectory = (runId: string) => path.join(testDataDirectory(process.pid), 'topology', runId);

export const topologyRunId = () => `${process.pid}_${randomBytes(3).toString('hex')}`;

/**
 * The production shape of `npm run topology` (Temporal server on Postgres, its Web UI, 2 API and 2 worker processes)
 * on free ports and, unless given a server of its own, on the suite's Postgres server, in databases of its own.
 */
export async function startTestTopology(options: { runId?: string; postgres?: PostgresServer; environment?: Record<string, string> } = {}): Promise<Topology> {
  const runId = options.runId ?? topologyRunId();
  return startTopology({
    postgres: options.postgres ?? postgresAt(testDatabaseUrl()),
    databasePrefix: `topology_${runId}_`,
    directory: topologyDirectory(runId),
    ports: await freeTopologyPorts(),
    environment: {
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      HOSTED_MODE: 'true',
      AUTH_TOKEN_SECRET: randomBytes(32).toString('hex'),
      OPERATOR_TOKENS: Object.values(OPERATORS)
        .map((operator) => `${operator.name}:${operator.role}:${operator.token}`)
        .join(','),
      // The test speaks for many clients from one address: each names its own, as a load balancer would.
      TRUST_PROXY_HOPS: '1',
      DATABASE_POOL_MAX: '5',
      // Its waits poll the API from one address and credential; the request budgets are tested in test/security.
      ANONYMOUS_RATE_LIMIT_PER_IP_PER_MINUTE: '10000000',
      TENANT_REQUEST_BUDGET_PERCENT: '100000',
      ...options.environment,
    },
  });
}

/** One client of the fleet: its address, and which API process its load balancer sends it to. */
export class FleetClient {
  constructor(
    readonly ip: string,
    private readonly token?: string,
  ) {}

  withToken(token: string): FleetClient {
    return new FleetClient(this.ip, token);
  }

  async call(baseUrl: string, method: string, urlPath: string, options: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {}) {
    const response = await fetch(`${baseUrl}${urlPath}`, {
      method,
      signal: options.signal,
      headers: {
        'x-forwarded-for': this.ip,
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...options.headers,
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }
}

let ipCounter = 0;
/** A client address no other test uses, so per-IP limits of one test never touch another. */
export const freshClient = () => new FleetClient(`203.0.113.${++ipCounter}`);

export interface FleetTenant {
  tenantId: string;
  slug: string;
  email: string;
  client: FleetClient;
}

/** Signs up through one API process, waits until the saga made the tenant active, logs in through another. */
export async function signUpAndLogIn(topology: Topology, name: string): Promise<FleetTenant> {
  const client = freshClient();
  const email = `${name}@fleet.example`;
  const signup = await client.call(topology.apis[0]!.url, 'POST', '/api/v1/signup', { body: { orgName: name, email, password: KNOWN_PASSWORD } });
  if (signup.status !== 202) throw new Error(`signup answered ${signup.status}: ${JSON.stringify(signup.body)}`);
  await waitFor(async () => (await client.call(topology.apis[1]!.url, 'GET', `/api/v1/signup/${String(signup.body.workflowId)}`)).body.outcome === 'active', {
    timeoutMs: 60_000,
    intervalMs: 250,
  });
  const session = await client.call(topology.apis[1]!.url, 'POST', '/api/v1/auth/login', { body: { email, password: KNOWN_PASSWORD } });
  if (session.status !== 200) throw new Error(`login answered ${session.status}: ${JSON.stringify(session.body)}`);
  return { tenantId: String(signup.body.tenantId), slug: String(signup.body.slug), email, client: client.withToken(String(session.body.accessToken)) };
}

/** The sum of one Prometheus counter, any labels, across the given processes' /metrics. */
export async function counterAcross(urls: string[], name: string): Promise<number> {
  let total = 0;
  for (const url of urls) {
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const line of text.split('\n')) {
      if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}
