/**
 * Outage semantics over real HTTP against the stack as `npm start` runs it, with Temporal and Postgres each reached
 * through a proxy the test freezes (as SIGSTOP or a partition looks to clients; the suite's shared servers are never
 * touched): every answer during the outage is a 503 problem+json with Retry-After naming the dependency's class,
 * within the request deadline; after the thaw the same requests succeed, and a retried signup or keyed run lands on
 * the one tenant or run that may have been started.
 */
import { dependencyProblemType, type DependencyClass } from '../../src/api/dependency-problem';
import type { Orm } from '../../src/db/orm';
import { KNOWN_PASSWORD, OPERATORS, provisionTeam, type TestTenant } from '../support/auth';
import { startFreezableProxy, type FreezableProxy } from '../support/freezable-proxy';
import { startSecurityStack, type HttpAnswer, type SecurityStack } from '../support/security-stack';
import { testDatabaseUrl, testOrm, testTemporalAddress, uniqueSlug } from '../support/stack';
import { waitFor } from '../support/wait';

const DEADLINE_SECONDS = 4;
/** Time for the answer to travel and the event loop to get to the timer; nowhere near a second deadline. */
const SLACK_MS = 1500;
const PLAN = { steps: [{ kind: 'credits.debit', amount: 1 }] };

let temporal: FreezableProxy;
let postgres: FreezableProxy;
let stack: SecurityStack;
let direct: Orm;
let team: TestTenant;
let ownerToken: string;

const hostPort = (address: string) => {
  const [host, port] = address.split(':');
  return { host: host!, port: Number(port) };
};

beforeAll(async () => {
  temporal = await startFreezableProxy(hostPort(testTemporalAddress()));
  const databaseUrl = new URL(testDatabaseUrl());
  postgres = await startFreezableProxy({ host: databaseUrl.hostname, port: Number(databaseUrl.port) });
  databaseUrl.host = postgres.address;
  stack = await startSecurityStack(
    // The team is unverified: its daily run allowance would end the test before the outages do.
    { TEMPORAL_ADDRESS: temporal.address, REQUEST_DEADLINE_SECONDS: String(DEADLINE_SECONDS), DATABASE_QUERY_TIMEOUT_SECONDS: '1', UNVERIFIED_RUNS_PER_DAY: '100000' },
    { databaseUrl: databaseUrl.toString() },
  );
  direct = await testOrm();
});

// A team per test: runs an outage delayed must not hold the next test's admission slots.
beforeEach(async () => {
  team = await provisionTeam(direct);
  const session = await stack.call<{ accessToken: string }>('POST', '/api/v1/auth/login', { body: { email: team.members.owner.email, password: KNOWN_PASSWORD }, from: '10.22.0.1' });
  expect(session.status).toBe(200);
  ownerToken = session.body.accessToken;
});

afterEach(() => {
  for (const proxy of [temporal, postgres]) {
    proxy.revive();
    proxy.thaw();
  }
});

afterAll(async () => {
  for (const proxy of [temporal, postgres]) {
    proxy?.revive();
    proxy?.thaw();
  }
  await stack?.stop();
  await direct?.close(true);
  await temporal?.close();
  await postgres?.close();
});

const signupBody = (slug: string) => ({ email: `owner-${slug}@example.com`, password: KNOWN_PASSWORD, orgName: slug.replace(/-/g, ' ') });
const ops = OPERATORS.ops.token;

const calls = {
  signup: (slug: string) => stack.call('POST', '/api/v1/signup', { body: signupBody(slug), from: '10.22.0.2' }),
  signupProgress: (slug: string) => stack.call('GET', `/api/v1/signup/provision:${slug}`, { from: '10.22.0.3' }),
  submitRun: (key: string) => stack.call('POST', '/api/v1/runs', { token: ownerToken, body: PLAN, headers: { 'idempotency-key': key } }),
  readRun: (runId: string) => stack.call('GET', `/api/v1/runs/${runId}`, { token: ownerToken }),
  suspend: () => stack.call('POST', `/api/v1/admin/tenants/${team.tenantId}/suspend`, { token: ops, body: { reason: 'outage drill' } }),
  unsuspend: () => stack.call('POST', `/api/v1/admin/tenants/${team.tenantId}/unsuspend`, { token: ops, body: { reason: 'outage drill over' } }),
  tenantView: () => stack.call('GET', `/api/v1/admin/tenants/${team.tenantId}`, { token: ops }),
};

async function timed<Body>(call: () => Promise<HttpAnswer<Body>>): Promise<HttpAnswer<Body> & { ms: number }> {
  const startedAt = Date.now();
  const answer = await call();
  return { ...answer, ms: Date.now() - startedAt };
}

/** The one shape of an outage answer, and its bound. */
function expectOutageAnswer(answer: HttpAnswer & { ms: number }, dependency: DependencyClass) {
  expect({ status: answer.status, type: (answer.body as { type?: string }).type }).toEqual({ status: 503, type: dependencyProblemType(dependency) });
  expect(answer.headers.get('content-type')).toMatch(/application\/problem\+json/);
  expect(answer.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
  expect(answer.ms).toBeLessThan(DEADLINE_SECONDS * 1000 + SLACK_MS);
}

/**
 * What a well-behaved client does after a 503: the same request again until it is answered; every 503 meanwhile has
 * the outage's shape. A 429 is waited out too (it carries Retry-After): the team's plan allows few runs at once, and the drills' runs, delayed
 * by the outage, can still hold them.
 */
async function retryUntilAnswered<Body>(call: () => Promise<HttpAnswer<Body>>): Promise<HttpAnswer<Body>> {
  let last: HttpAnswer<Body> | undefined;
  await waitFor(
    async () => {
      last = await timed(call);
      if (last.status !== 503 && last.status !== 429) return true;
      expect(last.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
      return false;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  return last!;
}

const runRows = (runId: string) => direct.em.fork().execute<Array<{ id: string }>>('select id from run where id = ?', [runId]);
const releasedAdmissions = (runId: string) =>
  direct.em.fork().execute<Array<{ action: string }>>(`select action from audit_event where correlation_id = ? and action = 'run.start_failed'`, [runId]);


/** After the outage: the retried signup and keyed run land on the one tenant and run, and reads and operator acts answer. */
async function expectRecovered(input: { slug: string; runKey: string; earlierRunId: string }): Promise<void> {
  expect((await retryUntilAnswered(() => calls.signup(input.slug))).status).toBe(202);
  const runAgain = await retryUntilAnswered(() => calls.submitRun(input.runKey));
  expect(runAgain.status).toBe(202);
  expect(await runRows((runAgain.body as { runId: string }).runId)).toHaveLength(1);
  expect((await retryUntilAnswered(() => calls.readRun(input.earlierRunId))).status).toBe(200);
  expect((await retryUntilAnswered(() => calls.suspend())).status).toBe(200);
  expect((await retryUntilAnswered(() => calls.unsuspend())).status).toBe(200);
}

describe('Temporal frozen', () => {
  it('answers signup, run submission, signup progress and an operator action with 503 naming temporal within the deadline; retried after the thaw they land on the one tenant and run', async () => {
    const slug = uniqueSlug('outage-t');
    const runKey = uniqueSlug('outage-run');
    temporal.freeze();

    const [signup, run, progress, suspend, view] = await Promise.all([
      timed(() => calls.signup(slug)),
      timed(() => calls.submitRun(runKey)),
      timed(() => calls.signupProgress(slug)),
      timed(() => calls.suspend()),
      timed(() => calls.tenantView()),
    ]);
    for (const answer of [signup, run, progress, suspend]) expectOutageAnswer(answer, 'temporal');
    // The operator's view of a tenant comes from Postgres: it answers, without the workflow's live part.
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ tenantId: team.tenantId, lifecycle: null });
    expect(view.ms).toBeLessThan(DEADLINE_SECONDS * 1000 + SLACK_MS);

    temporal.thaw();

    const signupAgain = await retryUntilAnswered(() => calls.signup(slug));
    expect(signupAgain.status).toBe(202);
    const { tenantId } = signupAgain.body as { tenantId: string };
    // Whichever attempt started the saga, there is one tenant for the name, and it is the one the retry was told about.
    await waitFor(async () => (await direct.em.fork().execute('select id from tenant where slug = ?', [slug])).length === 1, { timeoutMs: 60_000 });
    expect(await direct.em.fork().execute('select id from tenant where slug = ?', [slug])).toEqual([{ id: tenantId }]);
    expect((await retryUntilAnswered(() => calls.signupProgress(slug))).status).toBe(200);

    const runAgain = await retryUntilAnswered(() => calls.submitRun(runKey));
    expect(runAgain.status).toBe(202);
    const { runId, duplicate } = runAgain.body as { runId: string; duplicate: boolean };
    // The first attempt's admission was kept (Temporal may have received its start): the retry is that run, not a second.
    expect(duplicate).toBe(true);
    expect(await runRows(runId)).toHaveLength(1);
    expect(await releasedAdmissions(runId)).toEqual([]);

    const suspendAgain = await retryUntilAnswered(() => calls.suspend());
    expect(suspendAgain.status).toBe(200);
    expect((await retryUntilAnswered(() => calls.unsuspend())).status).toBe(200);
  });
});

describe('Postgres frozen', () => {
  it('answers signup, run submission, a run read and an operator action with 503 naming the database within the deadline, and each answers after the thaw', async () => {
    const earlier = await retryUntilAnswered(() => calls.submitRun(uniqueSlug('outage-before')));
    expect(earlier.status).toBe(202);
    const earlierRunId = (earlier.body as { runId: string }).runId;
    const slug = uniqueSlug('outage-d');
    const runKey = uniqueSlug('outage-run');
    postgres.freeze();

    const [signup, run, read, suspend] = await Promise.all([
      timed(() => calls.signup(slug)),
      timed(() => calls.submitRun(runKey)),
      timed(() => calls.readRun(earlierRunId)),
      timed(() => calls.suspend()),
    ]);
    for (const answer of [signup, run, read, suspend]) expectOutageAnswer(answer, 'database');

    postgres.thaw();

    await expectRecovered({ slug, runKey, earlierRunId });
  });

});

describe.each([
  { dependency: 'temporal' as const, proxy: () => temporal },
  { dependency: 'database' as const, proxy: () => postgres },
])('$dependency killed', ({ dependency, proxy }) => {
  it('answers signup, run submission, a read and an operator action with 503 naming it within the deadline, and each answers once it is back', async () => {
    const earlier = await retryUntilAnswered(() => calls.submitRun(uniqueSlug('outage-before')));
    expect(earlier.status).toBe(202);
    const earlierRunId = (earlier.body as { runId: string }).runId;
    const slug = uniqueSlug(`outage-k${dependency[0]}`);
    const runKey = uniqueSlug('outage-run');
    proxy().kill();

    const answers = await Promise.all([
      timed(() => calls.signup(slug)),
      timed(() => calls.submitRun(runKey)),
      // With Temporal dead the run's status is read from Postgres instead; the signup's progress only Temporal knows.
      timed(() => (dependency === 'temporal' ? calls.signupProgress(slug) : calls.readRun(earlierRunId))),
      timed(() => calls.suspend()),
    ]);
    for (const answer of answers) expectOutageAnswer(answer, dependency);

    proxy().revive();

    await expectRecovered({ slug, runKey, earlierRunId });
  });
});

describe('after the outages', () => {
  it('counts outage answers by class, with no tenant label, and the worker is still running', async () => {
    const metrics = await stack.call('GET', '/metrics');
    const lines = metrics.text.split('\n').filter((line) => line.startsWith('http_dependency_unavailable_total{'));
    expect(lines.some((line) => line.includes('dependency="temporal"'))).toBe(true);
    expect(lines.some((line) => line.includes('dependency="database"'))).toBe(true);
    for (const line of lines) expect(line).not.toMatch(/tenant/i);
    expect(stack.plane.worker?.getState()).toBe('RUNNING');
  });
});
