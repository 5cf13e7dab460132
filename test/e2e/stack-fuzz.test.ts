/**
 * The running stack fuzzed from its own OpenAPI document: the control plane started as `npm start` starts it
 * (startControlPlane, API and worker in one process, hosted mode) and the same generated requests as
 * test/api/fuzz.test.ts sent over real HTTP, with hostile signups and run plans on top. Afterwards the stack is
 * ready, no answer was a 5xx, and every workflow that should have ended has.
 */
import { request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { provisioningProgressQuery, type ProvisioningProgress } from '../../src/contracts/provisioning';
import { startControlPlane, type RunningControlPlane } from '../../src/control-plane';
import type { Orm } from '../../src/db/orm';
import { createLogger } from '../../src/observability/logger';
import { KNOWN_PASSWORD, OPERATORS, provisionTeam, TEST_AUTH_SECRET, type TestTenant } from '../support/auth';
import { declaredOperationNames } from '../support/declared-operations';
import { onEnterprisePlan } from '../support/fuzz-world';
import { nestedArrays, nestedObjects, preview, RawJson, responseViolations, toJsonText, type FuzzedResponse } from '../support/fuzz';
import { API_HINTS, describeRequest, operationsOf, requestArbitrary, undeclaredStatus, type FuzzContext, type FuzzedRequest, type FuzzOperation, type Hints } from '../support/openapi-fuzz';
import { freePort } from '../support/ports';
import { createActiveTenant, type TestTenant as ActiveTenant } from '../support/runs';
import { connectToDevServer, testConfig, testDatabaseUrl, testOrm, uniqueSlug, uniqueTaskQueue, type DevServerHarness } from '../support/stack';
import { waitFor } from '../support/wait';

/** Fewer than in-process: every request crosses a socket and what it starts runs on this process's worker. */
const RUNS_PER_OPERATION = 12;
const SEED = 20_261_202;
/** How long what the fuzz started may take to end: transient faults back off, compensations run one by one. */
const WORKFLOW_DEADLINE_MS = 90_000;
const REQUEST_TIMEOUT_MS = 30_000;

const DECLARED = declaredOperationNames();

let orm: Orm;
let temporal: DevServerHarness;
let plane: RunningControlPlane;
let taskQueue: string;
let team: TestTenant;
let victim: ActiveTenant;
let ownerToken: string;
let keyId: string;
let waitingRunId: string;
let operations: Map<string, FuzzOperation>;
let startedAt: Date;
/** Every answer of 500 or more the stack gave, whichever test sent the request. */
const serverErrors: string[] = [];
/** Workflows the API said it started, with the request that started them. */
const startedWorkflows = new Map<string, FuzzedRequest>();

const OPERATOR_TOKENS = Object.values(OPERATORS)
  .map((operator) => `${operator.name}:${operator.role}:${operator.token}`)
  .join(',');

/** Node's own HTTP client: a real socket, any method with a body, and the bytes of the URL sent as they are. */
function send(fuzzed: FuzzedRequest): Promise<FuzzedResponse> {
  const base = new URL(plane.url!);
  const headers = { ...fuzzed.headers, ...(fuzzed.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(fuzzed.body)) } : {}) };
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: base.hostname, port: base.port, method: fuzzed.method.toUpperCase(), path: fuzzed.url, headers, timeout: REQUEST_TIMEOUT_MS }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // Not JSON: responseViolations reports it when it matters.
        }
        resolve({ status: response.statusCode ?? 0, contentType: String(response.headers['content-type'] ?? ''), body });
      });
      response.on('error', reject);
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    outgoing.on('error', reject);
    outgoing.end(fuzzed.body);
  });
}

/** Sends, remembers any 5xx and any workflow the API says it started. */
async function sendAndTrack(fuzzed: FuzzedRequest): Promise<FuzzedResponse> {
  const response = await send(fuzzed);
  if (response.status >= 500) serverErrors.push(`${describeRequest(fuzzed)} → ${response.status} ${preview(JSON.stringify(response.body), 200)}`);
  const workflowId = (response.body as { workflowId?: unknown } | null)?.workflowId;
  if (response.status < 300 && typeof workflowId === 'string' && !startedWorkflows.has(workflowId)) startedWorkflows.set(workflowId, fuzzed);
  return response;
}

const json = (operation: string, method: FuzzedRequest['method'], url: string, value: unknown, headers: Record<string, string> = {}): FuzzedRequest => ({
  operation,
  method,
  url,
  headers: { 'Content-Type': 'application/json', ...headers },
  body: toJsonText(value),
  value,
  credentialed: true,
});

beforeAll(async () => {
  startedAt = new Date();
  orm = await testOrm();
  temporal = await connectToDevServer();
  taskQueue = uniqueTaskQueue('stack-fuzz');
  const config = testConfig({
    PROCESS_ROLES: 'api,worker',
    HOSTED_MODE: 'true',
    API_PORT: String(await freePort()),
    WORKER_METRICS_PORT: String(await freePort()),
    TEMPORAL_TASK_QUEUE: taskQueue,
    AUTH_TOKEN_SECRET: TEST_AUTH_SECRET,
    OPERATOR_TOKENS,
    GLOBAL_RATE_LIMIT_PER_MINUTE: '0',
    LOGIN_FAILURES_PER_IP: '100000',
    LOGIN_FAILURES_PER_ACCOUNT: '1000',
    LOGIN_FAILURES_PER_CLIENT_ACCOUNT: '1000',
    TENANT_RUN_BURST_PER_MINUTE: '100000',
    PASSWORD_RESET_PER_IP_PER_HOUR: '100000',
    PASSWORD_RESET_PER_ACCOUNT_PER_HOUR: '1000',
    VERIFICATION_RESENDS_PER_HOUR: '1000',
  });
  plane = await startControlPlane(config, testDatabaseUrl(), createLogger('silent'));
  team = await provisionTeam(orm);
  await onEnterprisePlan(orm, team.tenantId);
  victim = await createActiveTenant(orm);

  const session = await send(json('setup', 'post', '/api/v1/auth/login', { email: team.members.owner.email, password: KNOWN_PASSWORD }));
  if (session.status !== 200) throw new Error(`login answered ${session.status}`);
  ownerToken = (session.body as { accessToken: string }).accessToken;
  const key = await send(json('setup', 'post', `/api/v1/tenants/${team.tenantId}/api-keys`, { name: 'fuzz target', role: 'viewer' }, { Authorization: `Bearer ${ownerToken}` }));
  if (key.status !== 201) throw new Error(`API key answered ${key.status}`);
  keyId = (key.body as { id: string }).id;
  // Submitted by the admin, so the owner the fuzz calls as may decide it (four eyes refuses a run's submitter).
  const adminSession = await send(json('setup', 'post', '/api/v1/auth/login', { email: team.members.admin.email, password: KNOWN_PASSWORD }));
  if (adminSession.status !== 200) throw new Error(`admin login answered ${adminSession.status}`);
  const adminToken = (adminSession.body as { accessToken: string }).accessToken;
  const run = await sendAndTrack(json('setup', 'post', '/api/v1/runs', { steps: [{ kind: 'approval' }, { kind: 'records.write', key: 'fuzz', value: { ok: true } }] }, { Authorization: `Bearer ${adminToken}` }));
  if (run.status !== 202) throw new Error(`setup run answered ${run.status}`);
  waitingRunId = (run.body as { runId: string }).runId;
  await waitFor(async () => ((await send({ operation: 'setup', method: 'get', url: `/api/v1/runs/${waitingRunId}`, headers: { Authorization: `Bearer ${ownerToken}` }, credentialed: true })).body as { pendingApproval?: unknown }).pendingApproval != null, { timeoutMs: 30_000 });

  const document = (await send({ operation: 'setup', method: 'get', url: '/openapi.json', headers: {}, credentialed: true })).body;
  operations = new Map(operationsOf(document as Parameters<typeof operationsOf>[0]).map((operation) => [operation.name, operation]));
}, 180_000);

afterAll(async () => {
  // Cleanup, not an assertion (that is the last test's): entity workflows outlive the process on this queue.
  for await (const execution of temporal.client.workflow.list({ query: `TaskQueue="${taskQueue}" AND ExecutionStatus="Running"` })) {
    await temporal.client.workflow.getHandle(execution.workflowId, execution.runId).terminate('stack fuzz finished').catch(() => undefined);
  }
  await plane?.stop();
  await temporal.close();
  await orm.close(true);
});

// Runs may end within the suite here: a worker executes them.
const STACK_HINTS: Hints = { ...API_HINTS, duration: fc.constantFrom('1s', '2s', '2h'), timeout: fc.constantFrom('5s', '24h') };

const fuzzContext = (): FuzzContext => ({
  pathValues: (operation, parameter) =>
    ({
      tenantId: [operation.auth.startsWith('operator:') ? victim.tenantId : team.tenantId],
      runId: [waitingRunId],
      keyId: [keyId],
      workflowId: [`provision:${team.slug}`],
    })[parameter] ?? [],
  credential: (operation) => (operation.auth.startsWith('tenant:') ? `Bearer ${ownerToken}` : operation.auth.startsWith('operator:') ? `Bearer ${OPERATORS.founder.token}` : undefined),
  wrongCredentials: [undefined, 'Bearer', 'Bearer garbage', 'Basic dXNlcjpwYXNz', 'Bearer eyJhbGciOiJub25lIn0.e30.', `Bearer ${'a'.repeat(9_000)}`, `Bearer ${ownerToken}`, `Bearer ${OPERATORS.founder.token}`],
  hints: STACK_HINTS,
  // Past Node's 16 KB header limit on purpose: the stack answers those itself, with a problem.
  maxUrlLength: 24_000,
  maxHeaderLength: 20_000,
});

const seedOf = (name: string) => [...name].reduce((hash, character) => (hash * 31 + character.charCodeAt(0)) | 0, SEED);

describe('the running stack, fuzzed from its OpenAPI document', () => {
  it('serves a document listing every operation the app declares', () => {
    expect([...operations.keys()].sort()).toEqual([...DECLARED].sort());
  });

  it.each(DECLARED)('%s over HTTP: no 5xx and a problem on every 4xx the document declares', async (name) => {
    const operation = operations.get(name);
    if (!operation) throw new Error(`${name} is declared by the app but missing from the OpenAPI document`);
    await fc.assert(
      fc.asyncProperty(requestArbitrary(operation, fuzzContext()), async (fuzzed) => {
        const response = await sendAndTrack(fuzzed);
        const violations = [...responseViolations(response), ...undeclaredStatus(operation, response.status)];
        if (violations.length > 0) throw new Error(`${describeRequest(fuzzed)}\n  answered ${response.status} ${preview(JSON.stringify(response.body), 400)}\n  ${violations.join('\n  ')}`);
      }),
      { numRuns: RUNS_PER_OPERATION, seed: seedOf(name) },
    );
    // The owner's token is among the wrong credentials: here it was right, and ended the owner's sessions.
    if (operation.auth === 'tenant:sessions:end') {
      const session = await send(json('setup', 'post', '/api/v1/auth/login', { email: team.members.owner.email, password: KNOWN_PASSWORD }));
      ownerToken = (session.body as { accessToken: string }).accessToken;
    }
  });
});

describe('hostile values that reach Temporal and Postgres', () => {
  const fieldErrors = (response: FuzzedResponse) => ((response.body as { errors?: Array<{ path: string }> })?.errors ?? []).map((error) => error.path);

  it('answers hostile signups and refuses unstorable names with a 400 naming orgName', async () => {
    const names = [
      { orgName: 'Nul\u0000Org', storable: false },
      { orgName: 'Lone \uD800 Org', storable: false },
      { orgName: 'Low \uDFFF Org', storable: false },
      { orgName: '\u202Eevil Org', storable: true },
      { orgName: 'Ünïcödé Örg', storable: true },
      { orgName: "Robert'); drop table tenant; --", storable: true },
      { orgName: '🦄 Unicorn Co 🦄', storable: true },
      { orgName: '\u200B\uFEFF', storable: true },
      { orgName: 'Plain Org', storable: true },
    ];
    const failures: string[] = [];
    for (const { orgName, storable } of names) {
      const suffix = uniqueSlug('o');
      const body = { email: `${suffix}@example.com`, password: 'Strong-Password-42', orgName: `${orgName} ${suffix}` };
      const fuzzed = json('POST /api/v1/signup', 'post', '/api/v1/signup', body);
      const response = await sendAndTrack(fuzzed);
      const violations = responseViolations(response);
      if (!storable && (response.status !== 400 || !fieldErrors(response).includes('orgName'))) violations.push(`unstorable orgName answered ${response.status}, not a 400 naming orgName`);
      if (violations.length > 0) failures.push(`${describeRequest(fuzzed)} → ${response.status}: ${violations.join('; ')}`);
    }
    expect(failures).toEqual([]);
  });

  it('answers run plans with hostile values, and refuses unstorable or too deep record values with a 400 naming the value', async () => {
    // A team of its own: the fuzzed team's runs may fill its concurrency ceiling, and a 429 here would hide the answer.
    const planTeam = await provisionTeam(orm);
    await onEnterprisePlan(orm, planTeam.tenantId);
    const session = await send(json('setup', 'post', '/api/v1/auth/login', { email: planTeam.members.owner.email, password: KNOWN_PASSWORD }));
    const planToken = (session.body as { accessToken: string }).accessToken;
    const plans = [
      { value: { note: 'nul\u0000inside' }, storable: false },
      { value: JSON.parse('{"a\\u0000b":1}') as unknown, storable: false },
      { value: ['\uD800'], storable: false },
      { value: { deep: '\uDFFF' }, storable: false },
      { value: nestedObjects(33), storable: false },
      { value: nestedArrays(7_000), storable: false },
      { value: new RawJson('1e309'), storable: false },
      { value: 'x'.repeat(8 * 1024 + 1), storable: false },
      { value: new RawJson('99999999999999999999'), storable: true },
      { value: { '\u202Ertl': '🦄'.repeat(100), 'e\u0301': 'İıßǅ' }, storable: true },
      { value: "'; drop table record; --", storable: true },
      { value: nestedObjects(32), storable: true },
    ];
    const failures: string[] = [];
    for (const { value, storable } of plans) {
      for (const steps of [[{ kind: 'records.write', key: uniqueSlug('k'), value }], [{ kind: 'wait', duration: '1s' }, { kind: 'records.write', key: uniqueSlug('k'), value }, { kind: 'credits.debit', amount: 1_000_000 }]]) {
        const fuzzed = json('POST /api/v1/runs', 'post', '/api/v1/runs', { description: 'hostile values', steps }, { Authorization: `Bearer ${planToken}` });
        const response = await sendAndTrack(fuzzed);
        const violations = responseViolations(response);
        const namesValue = fieldErrors(response).some((path) => path === 'steps.0.value' || path.startsWith('steps.0.value.') || path === 'steps.1.value' || path.startsWith('steps.1.value.'));
        if (!storable && (response.status !== 400 || !namesValue)) violations.push(`unstorable value answered ${response.status}, not a 400 naming the value`);
        if (storable && response.status !== 202) violations.push(`a storable plan answered ${response.status}`);
        if (violations.length > 0) failures.push(`${describeRequest(fuzzed)} → ${response.status} ${preview(JSON.stringify(response.body), 200)}: ${violations.join('; ')}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('answers a 20 KB Authorization header, and a URL past the header limit, with a 431 problem', async () => {
    const oversized: FuzzedRequest[] = [
      { operation: 'GET /api/v1/tenants/{tenantId}/limits', method: 'get', url: `/api/v1/tenants/${team.tenantId}/limits`, headers: { Authorization: `Bearer ${'x'.repeat(20 * 1024)}` }, credentialed: false },
      { operation: 'GET /api/v1/admin/events', method: 'get', url: `/api/v1/admin/events?runId=${'x'.repeat(20 * 1024)}`, headers: { Authorization: `Bearer ${OPERATORS.ops.token}` }, credentialed: true },
    ];
    for (const fuzzed of oversized) {
      const response = await sendAndTrack(fuzzed);
      expect({ url: fuzzed.url.slice(0, 60), status: response.status, violations: responseViolations(response) }).toEqual({ url: fuzzed.url.slice(0, 60), status: 431, violations: [] });
    }
  });
});

/**
 * Entity workflows live as long as their tenant or trial, and the account workflows wait for a person (a signup's
 * verification for days, an invitation until it expires, a reset link for 30 minutes): running is what they should be
 * doing.
 */
const LONG_LIVED_TYPES = ['tenantLifecycle', 'billingTrial', 'emailVerification', 'teamInvitation', 'passwordReset'];

/** A run whose plan holds a wait or an approval may rightly still be waiting; any other run should have ended. */
const mayStillWait = (request: FuzzedRequest | undefined) => {
  const steps = (request?.value as { steps?: Array<{ kind?: unknown }> } | undefined)?.steps ?? [];
  return steps.some((step) => step?.kind === 'approval' || step?.kind === 'wait');
};

interface Verdict {
  workflowId: string;
  type: string;
  status: string;
  /** A provisioning saga's own account of itself: `rolling_back` must never be where it stays. */
  outcome?: string;
  request?: string;
}

async function verdictOf(workflowId: string, type: string): Promise<Verdict> {
  const started = startedWorkflows.get(workflowId);
  const handle = temporal.client.workflow.getHandle(workflowId);
  const status = (await handle.describe()).status.name;
  let outcome: string | undefined;
  if (type === 'provisionTenant') {
    outcome = await handle.query<ProvisioningProgress>(provisioningProgressQuery).then(
      (progress) => progress.outcome,
      (error: Error) => `unanswered: ${error.message}`,
    );
  }
  return { workflowId, type, status, outcome, ...(started ? { request: describeRequest(started) } : {}) };
}

const shouldHaveEnded = (verdict: Verdict) =>
  verdict.status === 'RUNNING' && !LONG_LIVED_TYPES.includes(verdict.type) && !(verdict.type === 'runWorkflow' && mayStillWait(startedWorkflows.get(verdict.workflowId)));
const stuckRollingBack = (verdict: Verdict) => verdict.outcome === 'rolling_back' || (verdict.status !== 'RUNNING' && verdict.outcome === 'running');

describe('after the fuzz', () => {
  it('leaves no 5xx, no workflow running that should have ended, none rolling back, and /readyz 200', async () => {
    expect(serverErrors).toEqual([]);

    const started = async () => {
      const found: Array<{ workflowId: string; type: string }> = [];
      for await (const execution of temporal.client.workflow.list({ query: `TaskQueue="${taskQueue}" AND StartTime >= "${startedAt.toISOString()}"` })) {
        found.push({ workflowId: execution.workflowId, type: execution.type });
      }
      return found;
    };
    // The API's own word for what it started, and Temporal's: neither may know of a workflow the other lost.
    const listed = await started();
    const accepted = [...startedWorkflows.keys()];
    // Visibility lists a workflow a moment after it starts; describe() is Temporal's own word for one not yet listed.
    const unlisted = accepted.filter((workflowId) => !listed.some((execution) => execution.workflowId === workflowId));
    const unknown: string[] = [];
    for (const workflowId of unlisted) {
      const known = await temporal.client.workflow.getHandle(workflowId).describe().then(() => true, () => false);
      if (!known) unknown.push(workflowId);
    }
    expect(unknown).toEqual([]);
    // The hostile signups and plans above got some accepted: there is something to judge.
    expect(listed.filter((execution) => execution.type === 'provisionTenant').length).toBeGreaterThan(0);
    expect(listed.filter((execution) => execution.type === 'runWorkflow').length).toBeGreaterThan(0);

    // Stays a string if Temporal never answered: that is a failure, not a pass.
    let unfinished: Verdict[] | string = 'never judged';
    await waitFor(
      async () => {
        const verdicts = await Promise.all((await started()).map((execution) => verdictOf(execution.workflowId, execution.type)));
        unfinished = verdicts.filter((verdict) => shouldHaveEnded(verdict) || stuckRollingBack(verdict));
        return unfinished.length === 0;
      },
      { timeoutMs: WORKFLOW_DEADLINE_MS, intervalMs: 1_000 },
    ).catch(() => undefined);
    expect(unfinished).toEqual([]);

    const ready = await send({ operation: 'GET /readyz', method: 'get', url: '/readyz', headers: {}, credentialed: true });
    expect({ status: ready.status, body: ready.body }).toEqual({ status: 200, body: expect.objectContaining({ status: 'ready' }) });
  }, WORKFLOW_DEADLINE_MS + 60_000);
});
