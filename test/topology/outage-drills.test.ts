/**
 * Outage drills on the production shape (Temporal server on Postgres, 2 API and 2 worker processes, each its own OS
 * process, on a Postgres server of the file's own): the Temporal server and then Postgres SIGKILLed and restarted,
 * then each frozen (SIGSTOP) for 20 s and thawed, each in the middle of a mixed burst of signups, runs, reads and
 * operator actions. During the outage every answer is a success, a client error or a 503 with Retry-After naming the
 * dependency, within the request deadline; afterwards every process is ready again within 60 s without a restart, and
 * once the clients' retries are in nothing is left half done.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { dependencyProblemType } from '../../src/api/dependency-problem';
import { createOrm, type Orm } from '../../src/db/orm';
import { provisioningWorkflowId } from '../../src/temporal/workflow-ids';
import type { Topology } from '../../tools/topology/topology';
import { fleetToolsReady } from '../support/fleet-tools';
import { findOrphans } from '../support/invariants';
import { startKillablePostgres, type KillablePostgres } from '../support/killable-postgres';
import { createBurst, newBurstRecord, summariseAnswers, type BurstRecord, type BurstWorld } from '../support/outage-burst';
import { isAlive } from '../support/process-tree';
import { signUpAndLogIn, startTestTopology, topologyDirectory, topologyRunId } from '../support/topology';
import { waitFor } from '../support/wait';

/** Low, so a drill is quick: the bound is what is asserted, not its default. */
const DEADLINE_SECONDS = 5;
/** The answer's trip and a busy event loop on a 2-core box running the whole fleet; nowhere near another deadline. */
const SLACK_MS = 2000;
const LANES = 6;
const KILLED_FOR_MS = 10_000;
const FROZEN_FOR_MS = 20_000;
const READY_WITHIN_MS = 60_000;

jest.setTimeout(10 * 60_000);

let runId: string;
let postgres: KillablePostgres;
let postgresDown = false;
let topology: Topology;
let orm: Orm;
let temporal: Client;
let world: BurstWorld;
const figures: Array<{ drill: string; summary: ReturnType<typeof summariseAnswers>; outageMs: number; recoveryMs: number }> = [];

beforeAll(async () => {
  await fleetToolsReady();
  runId = topologyRunId();
  postgres = await startKillablePostgres(path.join(topologyDirectory(runId), 'postgres'));
  topology = await startTestTopology({
    runId,
    postgres,
    // The runner tenants never verify their owners' email: the verification gate's few runs a day would refuse the
    // last drill's submissions with 403, which is that gate's business, not the outage's.
    environment: { REQUEST_DEADLINE_SECONDS: String(DEADLINE_SECONDS), DATABASE_QUERY_TIMEOUT_SECONDS: '2', UNVERIFIED_RUNS_PER_DAY: '100000' },
  });
  // /readyz answers 200 once a process listens, but it still sets up its schedules on Temporal after that: a drill
  // that began before then would end the process's start (it exits on a failed start), not test a running fleet.
  await waitFor(() => processes().every((child) => readFileSync(path.join(topologyDirectory(runId), `${child.name}.log`), 'utf8').includes('control plane is up')), {
    timeoutMs: 60_000,
    intervalMs: 250,
  });
  orm = await createOrm(topology.databaseUrl);
  temporal = new Client({ connection: await Connection.connect({ address: topology.temporalAddress }) });
  const [runnerA, runnerB, runnerC, operated] = await Promise.all(['drill-runner-a', 'drill-runner-b', 'drill-runner-c', 'drill-operated'].map((name) => signUpAndLogIn(topology, name)));
  world = { topology, tenants: [runnerA!, runnerB!, runnerC!], operated: operated!, clientTimeoutMs: 30_000 };
}, 30 * 60_000);

// A drill that failed mid-outage must not leave the next one without its dependencies.
afterEach(async () => {
  topology.temporalServer.thaw();
  postgres.thaw();
  if (postgresDown) {
    await postgres.restart();
    postgresDown = false;
  }
  const pid = topology.temporalServer.pid();
  if (pid === undefined || !isAlive(pid)) await topology.temporalServer.restart();
});

afterAll(async () => {
  if (figures.length > 0) {
    const rows = figures.map(({ drill, summary, outageMs, recoveryMs }) =>
      [drill, summary.total, JSON.stringify(summary.byStatus), JSON.stringify(summary.unavailableBy), summary.slowestMs, outageMs, recoveryMs].join(' | '),
    );
    console.log(['| drill | answers | by status | 503 by class | slowest ms | outage ms | all ready after ms |', ...rows.map((row) => `| ${row} |`)].join('\n'));
  }
  await temporal?.connection.close();
  await orm?.close(true);
  await topology?.stop();
  await postgres?.stop();
});

const processes = () => [...topology.apis, ...topology.workers];

/** Every process's /readyz: 200, or what it says is failing (kept for the failure message). */
let notReady: string[] = [];
async function everyProcessReady(): Promise<boolean> {
  notReady = await Promise.all(
    processes().map((child) =>
      fetch(`${child.url}/readyz`, { signal: AbortSignal.timeout(3000) }).then(
        async (answer) => (answer.status === 200 ? '' : `${child.name} ${answer.status} ${await answer.text()}`),
        (error: unknown) => `${child.name} ${String(error)}`,
      ),
    ),
  ).then((states) => states.filter(Boolean));
  return notReady.length === 0;
}

/** A process that exited, with the end of its log: what a drill that killed one must show. */
async function exitedProcessLogs(): Promise<string[]> {
  const exited = processes().filter((child) => !child.isRunning());
  return Promise.all(
    exited.map(async (child) => {
      const log = await readFile(path.join(topologyDirectory(runId), `${child.name}.log`), 'utf8').catch(() => '(no log)');
      return `${child.name} exited; its log ends:\n${log.split('\n').slice(-30).join('\n')}`;
    }),
  );
}

function unhandledErrorLogLines(): string[] {
  return topology.apis.flatMap((api) =>
    readFileSync(path.join(topologyDirectory(runId), `${api.name}.log`), 'utf8')
      .split('\n')
      .filter((line) => line.includes('unhandled error'))
      .map((line) => `${api.name}: ${line.slice(0, 3000)}`),
  );
}

/** The outage lasts this long on purpose (the drill's length), not a wait for something to happen. */
const holdOutage = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Outage {
  name: string;
  begin(): Promise<void> | void;
  /** Resolves once the dependency is back (restarted, or thawed). */
  end(): Promise<void> | void;
  heldMs: number;
}

/** One drill: traffic flowing, the outage in its middle, recovery, the clients' retries; returns what it recorded. */
async function drill(outage: Outage): Promise<BurstRecord> {
  const pidsBefore = processes().map((child) => child.pid());
  const record = newBurstRecord();
  const burst = createBurst(world, outage.name, record);
  let endTraffic!: () => void;
  const traffic = burst.run(LANES, new Promise<void>((resolve) => (endTraffic = resolve)));

  // The burst is under way before the outage: some of its requests are mid-flight when it begins.
  await waitFor(() => record.answers.length >= 12, { timeoutMs: 30_000, intervalMs: 50 });
  const outageStartedAt = Date.now();
  await outage.begin();
  await holdOutage(outage.heldMs);
  await outage.end();
  const backAt = Date.now();
  await waitFor(everyProcessReady, { timeoutMs: READY_WITHIN_MS, intervalMs: 250 }).catch(async () => {
    throw new Error(`not ready ${READY_WITHIN_MS} ms after ${outage.name} ended: ${notReady.join('; ')}\n${(await exitedProcessLogs()).join('\n')}`);
  });
  const recoveryMs = Date.now() - backAt;
  // Traffic goes on over the recovered fleet before the clients stop.
  const answeredBeforeRecovery = record.answers.length;
  await waitFor(() => record.answers.length >= answeredBeforeRecovery + 12, { timeoutMs: 60_000, intervalMs: 50 });
  endTraffic();
  await traffic;
  await burst.retryUntilSettled(90_000);

  figures.push({ drill: outage.name, summary: summariseAnswers(record.answers), outageMs: backAt - outageStartedAt, recoveryMs });
  expect(processes().map((child) => child.pid())).toEqual(pidsBefore);
  expect(await exitedProcessLogs()).toEqual([]);
  return record;
}

function expectOnlyOutageShapedRefusals(record: BurstRecord): void {
  const answers = record.answers;
  expect(answers.filter((answer) => answer.status === 0)).toEqual([]);
  const serverErrors = answers.filter((answer) => answer.status >= 500 && answer.status !== 503);
  // A 500 is logged with its error by the API process that answered it: the message shows those lines.
  expect(serverErrors.length === 0 ? [] : [...serverErrors, ...unhandledErrorLogLines()]).toEqual([]);
  const refusals = answers.filter((answer) => answer.status === 503);
  // The drill proves something only if the outage reached the clients.
  expect(refusals.length).toBeGreaterThan(0);
  const dependencyTypes = (['temporal', 'database', 'timeout'] as const).map(dependencyProblemType);
  expect(
    refusals.filter(
      (answer) => !/^[1-9]\d*$/.test(answer.retryAfter ?? '') || !dependencyTypes.includes(answer.type ?? '') || !/application\/problem\+json/.test(answer.contentType ?? ''),
    ),
  ).toEqual([]);
  expect(answers.filter((answer) => answer.ms > DEADLINE_SECONDS * 1000 + SLACK_MS)).toEqual([]);
}

const count = async (sql: string, parameters: unknown[] = []) => Number((await orm.em.fork().execute<Array<{ n: string }>>(sql, parameters))[0]!.n);

/** After the retries: every signup one active tenant, every run ended with its books closed, nothing left behind. */
async function expectSettled(record: BurstRecord): Promise<void> {
  expect(record.signups.filter((signup) => !signup.workflowId).map((signup) => `${signup.name} ${signup.status}`)).toEqual([]);
  await waitFor(
    async () => {
      const answers = await Promise.all(record.signups.map((signup) => signup.client.call(topology.apis[0]!.url, 'GET', `/api/v1/signup/${signup.workflowId}`)));
      return answers.every((answer) => answer.body.outcome === 'active');
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
  for (const signup of record.signups) {
    expect(await count('select count(*) as n from tenant where slug = ?', [signup.name])).toBe(1);
    expect((await temporal.workflow.getHandle(provisioningWorkflowId(signup.name)).describe()).status.name).toBe('COMPLETED');
  }
  expect(await count(`select count(*) as n from tenant where status = 'provisioning'`)).toBe(0);

  // Each submission ended admitted or refused at the tenant's ceiling (trial tenants run 2 at a time): nothing else.
  expect(record.runs.filter((run) => run.status !== 202 && run.status !== 429).map((run) => `${run.key} ${run.status}`)).toEqual([]);
  await waitFor(async () => (await count(`select count(*) as n from run where phase not in ('COMPLETED', 'FAILED')`)) === 0, { timeoutMs: 120_000, intervalMs: 500 });
  const admitted = record.runs.flatMap((run) => (run.runId ? [run.runId] : []));
  const phases = await orm.em.fork().execute<Array<{ phase: string }>>(`select distinct phase from run where id in (?)`, [[...admitted, '00000000-0000-0000-0000-000000000000']]);
  expect(phases.map((row) => row.phase)).toEqual(admitted.length > 0 ? ['COMPLETED'] : []);
  expect(
    await count(`select count(*) as n from run_expectation e where e.waived_reason is null
      and not exists (select 1 from run_ack a where a.run_id = e.run_id and a.key = e.key)`),
  ).toBe(0);

  const tenantIds = [...record.signups.map((signup) => signup.tenantId!), ...world.tenants.map((tenant) => tenant.tenantId), world.operated.tenantId];
  expect(await findOrphans(orm, { tenantIds, emails: record.signups.map((signup) => signup.email) })).toEqual([]);
  // The operated tenant's last unsuspend goes through its lifecycle workflow: active once that has run.
  await waitFor(async () => (await count(`select count(*) as n from tenant where status <> 'active'`)) === 0, { timeoutMs: 30_000, intervalMs: 250 });
}

describe('outage drills on the production shape', () => {
  it('answers only 503 with Retry-After within the deadline while the Temporal server is SIGKILLed mid-burst, and settles everything once it restarts', async () => {
    const record = await drill({
      name: 'temporal-sigkill',
      begin: () => topology.temporalServer.kill(),
      end: () => topology.temporalServer.restart(),
      heldMs: KILLED_FOR_MS,
    });
    expectOnlyOutageShapedRefusals(record);
    await expectSettled(record);
  });

  it('answers only 503 with Retry-After within the deadline while Postgres is SIGKILLed mid-burst, and settles everything once it restarts', async () => {
    const record = await drill({
      name: 'postgres-sigkill',
      begin: async () => {
        postgresDown = true;
        await postgres.kill();
      },
      end: async () => {
        await postgres.restart();
        postgresDown = false;
      },
      heldMs: KILLED_FOR_MS,
    });
    expectOnlyOutageShapedRefusals(record);
    await expectSettled(record);
  });

  it('answers only 503 with Retry-After within the deadline while the Temporal server is frozen for 20 s mid-burst, and settles everything once it thaws', async () => {
    const record = await drill({
      name: 'temporal-sigstop',
      begin: () => topology.temporalServer.freeze(),
      end: () => topology.temporalServer.thaw(),
      heldMs: FROZEN_FOR_MS,
    });
    expectOnlyOutageShapedRefusals(record);
    await expectSettled(record);
  });

  it('answers only 503 with Retry-After within the deadline while Postgres is frozen for 20 s mid-burst, and settles everything once it thaws', async () => {
    const record = await drill({
      name: 'postgres-sigstop',
      begin: () => postgres.freeze(),
      end: () => postgres.thaw(),
      heldMs: FROZEN_FOR_MS,
    });
    expectOnlyOutageShapedRefusals(record);
    await expectSettled(record);
  });
});
