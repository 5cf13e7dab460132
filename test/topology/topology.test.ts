/**
 * The production shape, from the outside: the Temporal server on Postgres with SQL visibility, its Web UI, 2 API and
 * 2 worker processes (each its own OS process), driven over HTTP as clients behind a load balancer would.
 */
import { Client, Connection } from '@temporalio/client';
import type { Browser } from 'playwright-core';
import { createOrm, type Orm } from '../../src/db/orm';
import { readRunCounts } from '../../src/services/run-admission';
import { provisioningWorkflowId, runWorkflowId } from '../../src/temporal/workflow-ids';
import type { Topology } from '../../tools/topology/topology';
import { OPERATORS, KNOWN_PASSWORD } from '../support/auth';
import { fleetToolsReady } from '../support/fleet-tools';
import { findOrphans } from '../support/invariants';
import { counterAcross, freshClient, signUpAndLogIn, startTestTopology, type FleetClient, type FleetTenant } from '../support/topology';
import { waitFor } from '../support/wait';
import { expectTenantFilterInWebUi, launchBrowser } from '../support/web-ui';

jest.setTimeout(300_000);

let topology: Topology;
let orm: Orm;
let temporal: Client;
let first: FleetTenant;
let second: FleetTenant;
beforeAll(async () => {
  await fleetToolsReady();
  topology = await startTestTopology();
  orm = await createOrm(topology.databaseUrl);
  temporal = new Client({ connection: await Connection.connect({ address: topology.temporalAddress }) });
  [first, second] = [await signUpAndLogIn(topology, 'fleet-first'), await signUpAndLogIn(topology, 'fleet-second')];
}, 30 * 60_000);
// A crash drill kills a process; the next test starts with the whole fleet again, whether the drill passed or not.
afterEach(async () => {
  for (const process of [...topology.workers, ...topology.apis]) if (!process.isRunning()) await process.restart();
});
afterAll(async () => {
  await temporal?.connection.close();
  await orm?.close(true);
  await topology?.stop();
});

const apiUrls = () => topology.apis.map((api) => api.url);
const workerUrls = () => topology.workers.map((worker) => worker.url);
/** Where a client's reads go while a drill has killed a process: the load balancer skips dead ones. */
const liveApi = () => topology.apis.find((api) => api.isRunning())!.url;
/** Round robin over the API processes, as a load balancer spreads requests. */
const apiFor = (index: number) => apiUrls()[index % topology.apis.length]!;

const shortRun = { steps: [{ kind: 'wait', duration: '3s' }] };
const effectRun = (tag: string) => ({
  steps: [
    { kind: 'records.write', key: `${tag}/before`, value: { tag } },
    { kind: 'wait', duration: '3s' },
    { kind: 'records.write', key: `${tag}/after`, value: { tag } },
  ],
});

const submitRun = (tenant: FleetTenant, baseUrl: string, plan: unknown, key?: string) =>
  tenant.client.call(baseUrl, 'POST', '/api/v1/runs', { body: plan, headers: key ? { 'idempotency-key': key } : {} });

async function waitUntilRunsEnd(tenant: FleetTenant, runIds: string[]): Promise<void> {
  await waitFor(
    async () => {
      const views = await Promise.all(runIds.map((runId) => tenant.client.call(liveApi(), 'GET', `/api/v1/runs/${runId}`)));
      return views.every((view) => view.body.phase === 'COMPLETED' || view.body.phase === 'FAILED');
    },
    { timeoutMs: 180_000, intervalMs: 500 },
  );
}

async function signupsBecomeActive(client: FleetClient, workflowIds: string[]): Promise<void> {
  await waitFor(
    async () => {
      const answers = await Promise.all(workflowIds.map((id) => client.call(liveApi(), 'GET', `/api/v1/signup/${id}`)));
      return answers.every((answer) => answer.body.outcome === 'active');
    },
    { timeoutMs: 180_000, intervalMs: 500 },
  );
}

/** Every expectation of these runs has its ack: no effect went unrecorded, none was recorded twice (unique key). */
async function unackedExpectations(runIds: string[]): Promise<string[]> {
  const rows = await orm.em.fork().execute<Array<{ run_id: string; key: string }>>(
    `select e.run_id, e.key from run_expectation e where e.run_id in (?) and e.waived_reason is null
       and not exists (select 1 from run_ack a where a.run_id = e.run_id and a.key = e.key)`,
    [runIds],
  );
  return rows.map((row) => `${row.run_id} ${row.key}`);
}

const tenantsWithSlug = async (slug: string) =>
  Number((await orm.em.fork().execute<Array<{ n: string }>>(`select count(*) as n from tenant where slug = ?`, [slug]))[0]!.n);

describe('the production shape: Temporal server on Postgres, 2 API and 2 worker processes', () => {
  it('refuses the 6th signup from one address within the hour, whichever API process it reaches', async () => {
    const client = freshClient();
    const answers = [];
    for (let index = 0; index < 5; index++) {
      answers.push(await client.call(apiFor(index), 'POST', '/api/v1/signup', { body: { orgName: `fleet-limit-${index}`, email: `limit-${index}@fleet.example`, password: KNOWN_PASSWORD } }));
    }
    expect(answers.map((answer) => answer.status)).toEqual([202, 202, 202, 202, 202]);
    for (const url of apiUrls()) {
      const sixth = await client.call(url, 'POST', '/api/v1/signup', { body: { orgName: 'fleet-limit-6', email: 'limit-6@fleet.example', password: KNOWN_PASSWORD } });
      expect(sixth.status).toBe(429);
      expect(sixth.headers.get('retry-after')).toBeTruthy();
      expect(sixth.headers.get('ratelimit') ?? sixth.headers.get('ratelimit-remaining')).toBeTruthy();
    }
    // Another address still signs up: the limit is per client, not for everyone.
    const other = await freshClient().call(apiUrls()[1]!, 'POST', '/api/v1/signup', { body: { orgName: 'fleet-limit-other', email: 'other@fleet.example', password: KNOWN_PASSWORD } });
    expect(other.status).toBe(202);
    await signupsBecomeActive(client, answers.map((answer) => String(answer.body.workflowId)));
  });

  it('admits exactly 2 of 50 runs sent at once across both API processes to a trial tenant, and 2 more once they end', async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, (_, index) => submitRun(first, apiFor(index), shortRun)));
    const admitted = answers.filter((answer) => answer.status === 202);
    expect(admitted).toHaveLength(2);
    expect(answers.filter((answer) => answer.status === 429)).toHaveLength(48);
    expect(answers.find((answer) => answer.status === 429)?.headers.get('retry-after')).toBeTruthy();

    await waitUntilRunsEnd(first, admitted.map((answer) => String(answer.body.runId)));
    await waitFor(async () => (await readRunCounts(orm.em.fork(), first.tenantId)).inFlight === 0, { timeoutMs: 30_000, intervalMs: 250 });
    const next = await Promise.all(Array.from({ length: 10 }, (_, index) => submitRun(first, apiFor(index), shortRun)));
    const nextAdmitted = next.filter((answer) => answer.status === 202);
    expect(nextAdmitted).toHaveLength(2);
    await waitUntilRunsEnd(first, nextAdmitted.map((answer) => String(answer.body.runId)));
  });

  it('finishes every saga and run exactly once on the other worker when one worker process is SIGKILLed mid-burst', async () => {
    const client = freshClient();
    const names = Array.from({ length: 4 }, (_, index) => `fleet-crash-worker-${index}`);
    const signups = Promise.all(
      names.map((name, index) => client.call(apiFor(index), 'POST', '/api/v1/signup', { body: { orgName: name, email: `${name}@fleet.example`, password: KNOWN_PASSWORD } })),
    );
    const runs = Promise.all([first, first, second, second].map((tenant, index) => submitRun(tenant, apiFor(index), effectRun(`crash-worker-${index}`))));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await topology.workers[0]!.kill();

    const signupAnswers = await signups;
    const runAnswers = await runs;
    expect(signupAnswers.map((answer) => answer.status)).toEqual([202, 202, 202, 202]);
    expect(runAnswers.map((answer) => answer.status)).toEqual([202, 202, 202, 202]);
    await signupsBecomeActive(client, signupAnswers.map((answer) => String(answer.body.workflowId)));
    const runIds = runAnswers.map((answer) => String(answer.body.runId));
    await waitUntilRunsEnd(first, runIds.slice(0, 2));
    await waitUntilRunsEnd(second, runIds.slice(2));

    for (const runId of runIds) {
      const view = await temporal.workflow.getHandle(runWorkflowId(runId)).describe();
      expect(view.status.name).toBe('COMPLETED');
    }
    const phases = await orm.em.fork().execute<Array<{ phase: string }>>(`select phase from run where id in (?)`, [runIds]);
    expect(phases.map((row) => row.phase)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED']);
    expect(await unackedExpectations(runIds)).toEqual([]);
    for (const name of names) expect(await tenantsWithSlug(name)).toBe(1);
    const tenantIds = signupAnswers.map((answer) => String(answer.body.tenantId));
    expect(await findOrphans(orm, { tenantIds, emails: names.map((name) => `${name}@fleet.example`) })).toEqual([]);
    for (const tenant of [first, second]) expect((await readRunCounts(orm.em.fork(), tenant.tenantId)).inFlight).toBe(0);
  });

  it("lands clients' retries on the same tenants and runs when one API process is SIGKILLed mid-burst", async () => {
    const dying = topology.apis[0]!;
    const survivor = topology.apis[1]!;
    const names = Array.from({ length: 4 }, (_, index) => `fleet-crash-api-${index}`);
    const signupBody = (name: string) => ({ orgName: name, email: `${name}@fleet.example`, password: KNOWN_PASSWORD });
    const runKeys: Array<[FleetTenant, string]> = [
      [first, 'crash-api-a'],
      [first, 'crash-api-b'],
      [second, 'crash-api-c'],
      [second, 'crash-api-d'],
    ];
    const unanswered = { status: 0, body: {} as Record<string, unknown> };
    // Four people signing up from four places; each retries from where they are.
    const clients = names.map(() => freshClient());
    const firstSignups = Promise.all(names.map((name, index) => clients[index]!.call(dying.url, 'POST', '/api/v1/signup', { body: signupBody(name) }).catch(() => unanswered)));
    const firstRuns = Promise.all(runKeys.map(([tenant, key]) => submitRun(tenant, dying.url, effectRun(key), key).catch(() => unanswered)));
    await new Promise((resolve) => setTimeout(resolve, 60));
    await dying.kill();
    const [signupsBefore, runsBefore] = [await firstSignups, await firstRuns];
    // The drill proves something only if the crash cut requests off mid-way.
    expect([...signupsBefore, ...runsBefore].some((answer) => answer.status === 0)).toBe(true);

    // Every client retries through the process that is left, with the same body and the same key.
    const signupsAfter = await Promise.all(names.map((name, index) => clients[index]!.call(survivor.url, 'POST', '/api/v1/signup', { body: signupBody(name) })));
    const runsAfter = await Promise.all(runKeys.map(([tenant, key]) => submitRun(tenant, survivor.url, effectRun(key), key)));
    expect(signupsAfter.map((answer) => answer.status)).toEqual([202, 202, 202, 202]);
    expect(runsAfter.map((answer) => answer.status)).toEqual([202, 202, 202, 202]);
    signupsBefore.forEach((before, index) => {
      if (before.status === 202) expect(signupsAfter[index]!.body.tenantId).toBe(before.body.tenantId);
    });
    runsBefore.forEach((before, index) => {
      if (before.status === 202) expect(runsAfter[index]!.body.runId).toBe(before.body.runId);
    });

    await signupsBecomeActive(clients[0]!, signupsAfter.map((answer) => String(answer.body.workflowId)));
    for (const name of names) expect(await tenantsWithSlug(name)).toBe(1);
    const runIds = runsAfter.map((answer) => String(answer.body.runId));
    await waitUntilRunsEnd(first, runIds.slice(0, 2));
    await waitUntilRunsEnd(second, runIds.slice(2));
    const stored = await orm.em.fork().execute<Array<{ id: string; phase: string }>>(`select id, phase from run where id in (?)`, [runIds]);
    expect(stored.map((row) => row.phase)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED']);
    expect(await unackedExpectations(runIds)).toEqual([]);
    const tenantIds = signupsAfter.map((answer) => String(answer.body.tenantId));
    expect(await findOrphans(orm, { tenantIds, emails: names.map((name) => `${name}@fleet.example`) })).toEqual([]);
    for (const tenant of [first, second]) expect((await readRunCounts(orm.em.fork(), tenant.tenantId)).inFlight).toBe(0);
    for (const name of names) expect((await temporal.workflow.getHandle(provisioningWorkflowId(name)).describe()).status.name).toBe('COMPLETED');
  });

  it("serves the workflows' counters on the worker processes' own /metrics, with no tenant label", async () => {
    const operator = freshClient().withToken(OPERATORS.ops.token);
    for (const action of ['suspend', 'unsuspend']) {
      const answer = await operator.call(apiUrls()[0]!, 'POST', `/api/v1/admin/tenants/${second.tenantId}/${action}`, { body: { reason: 'topology test' } });
      expect(answer.status).toBe(200);
    }
    await waitFor(async () => (await counterAcross(workerUrls(), 'lifecycle_transitions_total')) >= 2, { timeoutMs: 30_000, intervalMs: 250 });
    // Counters live per process (a restarted worker starts from zero): the fleet's sum is what Prometheus adds up.
    expect(await counterAcross(workerUrls(), 'provisions_total')).toBeGreaterThan(0);
    expect(await counterAcross(workerUrls(), 'runs_total')).toBeGreaterThan(0);
    for (const url of workerUrls()) {
      const text = await (await fetch(`${url}/metrics`)).text();
      for (const name of ['provisions_total', 'lifecycle_transitions_total', 'runs_total', 'audit_findings_total', 'temporal_num_pollers']) expect(text).toContain(`# TYPE ${name}`);
    }
    for (const url of [...workerUrls(), ...apiUrls()]) {
      const text = await (await fetch(`${url}/metrics`)).text();
      expect(text).not.toContain(first.tenantId);
      expect(text).not.toContain(second.tenantId);
    }
    // The API processes count what they serve.
    expect(await counterAcross(apiUrls(), 'signups_total')).toBeGreaterThan(0);
  });

  describe('the Web UI on SQL visibility', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchBrowser();
    });
    afterAll(() => browser?.close());

    it('filters by TenantId="…" and by lifecycle state on this server', async () => {
      // A tenant with no runs yet: its filter matches exactly its provisioning, lifecycle and trial workflows.
      const fresh = await signUpAndLogIn(topology, 'fleet-web-ui');
      await expectTenantFilterInWebUi(browser, topology.uiUrl, fresh, second, 'topology-web-ui');
    });
  });
});
