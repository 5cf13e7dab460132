/**
 * The API in-process, fuzzed from its own OpenAPI document (test/support/openapi-fuzz.ts): for every operation,
 * generated bodies, parameters and headers with hostile values, sent with the operation's own credential (so its
 * validators are reached) and sometimes with none or a bad one. Never a 5xx; every 4xx a problem+json; a refused
 * request writes nothing. The same requests go to the running stack in test/e2e/stack-fuzz.test.ts.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import request from 'supertest';
import type { Express } from 'express';
import type { Worker } from '@temporalio/worker';
import { openApiPath } from '../../src/api/openapi';
import { postgresEventStore } from '../../src/db/event-store';
import { EventSink } from '../../src/observability/event-sink';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import type { Orm } from '../../src/db/orm';
import { buildTestApp, createApiKey, login, OPERATORS, provisionTeam, type TestApp, type TestTenant } from '../support/auth';
import { declaredOperationNames } from '../support/declared-operations';
import { HOSTILE_CURSORS, nestedArrays, nestedObjects, preview, responseViolations, toJsonText, type FuzzedResponse } from '../support/fuzz';
import { fuzzWorld, onEnterprisePlan, settle, watchWrites } from '../support/fuzz-world';
import { API_HINTS, cursorOf, describeRequest, operationName, operationsOf, requestArbitrary, stringFieldProbes, undeclaredStatus, type FuzzContext, type FuzzedRequest, type FuzzOperation, type ProbeContext } from '../support/openapi-fuzz';
import { routeTable } from '../support/routes';
import { createActiveTenant, type TestTenant as ActiveTenant } from '../support/runs';
import { connectToDevServer, startWorker, testOrm, uniqueTaskQueue, type DevServerHarness } from '../support/stack';
import { waitFor } from '../support/wait';

/** Runs per operation: ~34 operations at a few tens of ms each keep the file near a minute on two cores. */
const RUNS_PER_OPERATION = 30;
/** Fixed, so a failure reproduces; fast-check prints the seed and path of any counterexample. */
const SEED = 20_261_201;

/** The account routes' hourly limits, out of the way of a few hundred requests from one address. */
const ACCOUNT_LIMITS_OFF = { PASSWORD_RESET_PER_IP_PER_HOUR: '100000', PASSWORD_RESET_PER_ACCOUNT_PER_HOUR: '1000', VERIFICATION_RESENDS_PER_HOUR: '1000' };

/** Read before any server is up, so that each declared operation is a test of its own. */
const DECLARED = declaredOperationNames();

let orm: Orm;
/** The app's own pool: whatever writes through it while a request is in flight was written by that request. */
let appOrm: Orm;
let workerOrm: Orm;
let temporal: DevServerHarness;
let worker: Worker;
let workerRun: Promise<void>;
let subject: TestApp;
let team: TestTenant;
/** The tenant operator routes act on: suspending or terminating it leaves the team's own routes reachable. */
let victim: ActiveTenant;
let ownerToken: string;
/** Routes that end the caller's sessions get a member of their own: ending the owner's would turn every later case into a 401. */
let sessionEnderToken: string;
let keyId: string;
/** A run of the team's waiting for approval: approve, reject, terminate and audit reach a real workflow. */
let waitingRunId: string;
let operations: Map<string, FuzzOperation>;
let writes: ReturnType<typeof watchWrites>;

/** The worker's domain events, written on a timer: flushed before the world is compared. */
let workerEvents: EventSink;
const flushEvents = () => workerEvents.flush();
const world = () => fuzzWorld(orm, { tenantIds: [team.tenantId, victim.tenantId], dataOf: [team.tenantId] });

beforeAll(async () => {
  orm = await testOrm();
  appOrm = await testOrm();
  workerOrm = await testOrm();
  temporal = await connectToDevServer();
  const taskQueue = uniqueTaskQueue('fuzz');
  // Runs, transitions and signups the fuzz gets accepted need a worker to answer their updates and queries.
  workerEvents = new EventSink({ store: postgresEventStore(workerOrm), logger: createLogger('silent'), metrics: createMetrics() });
  worker = await startWorker({ connection: temporal.connection, taskQueue, orm: workerOrm, events: workerEvents });
  workerRun = worker.run();
  subject = await buildTestApp(appOrm, {
    env: { TEMPORAL_TASK_QUEUE: taskQueue, LOGIN_FAILURES_PER_IP: '100000', LOGIN_FAILURES_PER_ACCOUNT: '1000', LOGIN_FAILURES_PER_CLIENT_ACCOUNT: '1000', GLOBAL_RATE_LIMIT_PER_MINUTE: '0', TENANT_RUN_BURST_PER_MINUTE: '100000', ...ACCOUNT_LIMITS_OFF },
  });
  team = await provisionTeam(orm);
  await onEnterprisePlan(orm, team.tenantId);
  victim = await createActiveTenant(orm);
  ownerToken = (await login(subject.app, team.members.owner.email)).accessToken;
  sessionEnderToken = (await login(subject.app, team.members.viewer.email)).accessToken;
  keyId = (await createApiKey(subject.access, team.tenantId, 'viewer')).id;
  // Submitted by the admin, so the owner the fuzz calls as may decide it (four eyes refuses a run's submitter).
  const adminToken = (await login(subject.app, team.members.admin.email)).accessToken;
  const submitted = await request(subject.app)
    .post('/api/v1/runs')
    .set('Authorization', `Bearer ${adminToken}`)
    .send({ steps: [{ kind: 'approval' }, { kind: 'records.write', key: 'fuzz', value: { ok: true } }] });
  if (submitted.status !== 202) throw new Error(`setup run answered ${submitted.status}: ${JSON.stringify(submitted.body)}`);
  waitingRunId = submitted.body.runId;
  await waitFor(async () => (await request(subject.app).get(`/api/v1/runs/${waitingRunId}`).set('Authorization', `Bearer ${ownerToken}`)).body?.pendingApproval != null, { timeoutMs: 30_000 });
  await settle(worker, world, flushEvents);

  const document = (await request(subject.app).get('/openapi.json').expect(200)).body;
  operations = new Map(operationsOf(document).map((operation) => [operation.name, operation]));
  writes = watchWrites(appOrm);
}, 120_000);

afterAll(async () => {
  // Cleanup, not an assertion: nothing polls this task queue once the file ends.
  for await (const execution of temporal.client.workflow.list({ query: `TaskQueue="${worker.options.taskQueue}" AND ExecutionStatus="Running"` })) {
    await temporal.client.workflow.getHandle(execution.workflowId, execution.runId).terminate('fuzz suite finished').catch(() => undefined);
  }
  worker.shutdown();
  await workerRun;
  await workerEvents.close();
  await subject.close();
  await temporal.close();
  await Promise.all([orm.close(true), appOrm.close(true), workerOrm.close(true)]);
});

const wrongCredentials = (): Array<string | undefined> => [
  undefined,
  'Bearer',
  'Bearer garbage',
  'Basic dXNlcjpwYXNz',
  'Bearer eyJhbGciOiJub25lIn0.e30.',
  'Bearer cp_live_xxxxxxxx_short',
  `Bearer ${'a'.repeat(3_000)}`,
  `Bearer ${ownerToken}`,
  `Bearer ${OPERATORS.founder.token}`,
  `Bearer ${OPERATORS.ops.token}`,
];

function credential(operation: FuzzOperation): string | undefined {
  if (operation.auth === 'tenant:sessions:end') return `Bearer ${sessionEnderToken}`;
  if (operation.auth.startsWith('tenant:')) return `Bearer ${ownerToken}`;
  if (operation.auth.startsWith('operator:')) return `Bearer ${OPERATORS.founder.token}`;
  return undefined;
}

function pathValues(operation: FuzzOperation, parameter: string): string[] {
  switch (parameter) {
    case 'tenantId':
      return [operation.auth.startsWith('operator:') ? victim.tenantId : team.tenantId];
    case 'runId':
      return [waitingRunId];
    case 'keyId':
      return [keyId];
    case 'workflowId':
      return [`provision:${team.slug}`];
    default:
      return [];
  }
}

// Node answers a request line or headers past 16 KB itself (431, no body) before the app sees them: stay under it here.
const fuzzContext = (): FuzzContext => ({ pathValues, credential, wrongCredentials: wrongCredentials(), hints: API_HINTS, maxUrlLength: 4_000, maxHeaderLength: 4_000 });

const probeContext = (): ProbeContext => ({
  pathValues,
  credential,
  // An API key's expiry must lie ahead: a fixed date would pass into the past.
  example: (name) => ({ password: 'Strong-Password-42', duration: '2h', timeout: '24h', cursor: cursorOf('1'), expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString() })[name],
});

async function send(app: Express, fuzzed: FuzzedRequest): Promise<FuzzedResponse> {
  // A hang is a finding too: it fails the property instead of the whole file's timeout.
  let call = request(app)[fuzzed.method](fuzzed.url).timeout(30_000);
  for (const [name, value] of Object.entries(fuzzed.headers)) call = call.set(name, value);
  if (fuzzed.body !== undefined) call = call.send(fuzzed.body);
  const response = await call;
  return { status: response.status, contentType: response.headers['content-type'] ?? '', body: response.body };
}

const seedOf = (name: string) => [...name].reduce((hash, character) => (hash * 31 + character.charCodeAt(0)) | 0, SEED);

function changedParts(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  return Object.keys(before).filter((key) => !isDeepStrictEqual(before[key], after[key])).map((key) => `${key}: ${preview(JSON.stringify(before[key]), 200)} → ${preview(JSON.stringify(after[key]), 200)}`);
}

describe('the OpenAPI document as the fuzz target', () => {
  it('lists every operation the app declares, so no route escapes the fuzz', () => {
    const served = routeTable(subject.app).map((entry) => operationName(entry.method, openApiPath(entry.path)));
    expect(served.length).toBeGreaterThan(30);
    expect([...served].sort()).toEqual([...DECLARED].sort());
    expect([...operations.keys()].sort()).toEqual([...DECLARED].sort());
  });
});

describe('fuzzed requests from the OpenAPI document', () => {
  it.each(DECLARED)('%s: no 5xx, a problem on every 4xx the document declares, and a refused request writes nothing', async (name) => {
    const operation = operations.get(name);
    if (!operation) throw new Error(`${name} is declared by the app but missing from the OpenAPI document`);
    const context = fuzzContext();
    let credentialed = 0;
    await fc.assert(
      fc.asyncProperty(requestArbitrary(operation, context), async (fuzzed) => {
        if (fuzzed.credentialed) credentialed += 1;
        const before = await world();
        writes.take();
        const response = await send(subject.app, fuzzed);
        const written = writes.take();
        const violations = [...responseViolations(response), ...undeclaredStatus(operation, response.status)];
        if ((Object.prototype as Record<string, unknown>).polluted !== undefined) violations.push('Object.prototype was polluted');
        if (response.status >= 400) {
          if (written.length > 0) violations.push(`refused, yet wrote: ${written.join(' | ')}`);
          const after = await world();
          const changed = changedParts(before, after);
          if (changed.length > 0) violations.push(`refused, yet the world changed: ${changed.join('; ')}`);
        } else if (operation.method !== 'get') {
          // Accepted writes are not this property's business; what they set going must stop before the next request.
          await settle(worker, world, flushEvents);
        }
        if (violations.length > 0) {
          throw new Error(`${describeRequest(fuzzed)}\n  answered ${response.status} ${preview(JSON.stringify(response.body), 400)}\n  ${violations.join('\n  ')}`);
        }
      }),
      { numRuns: RUNS_PER_OPERATION, seed: seedOf(name) },
    );
    // The owner's token is among the wrong credentials every operation is tried with: here it was right, and ended
    // the owner's sessions. The operations after this one fuzz with a new session.
    if (operation.auth === 'tenant:sessions:end') ownerToken = (await login(subject.app, team.members.owner.email)).accessToken;
    // The validators were reached: most requests carried the operation's own credential.
    expect(credentialed).toBeGreaterThan(RUNS_PER_OPERATION / 2);
  });
});

describe('unstorable text at the API boundary', () => {
  it('refuses NUL and lone surrogates in every string field of every operation with a 400 naming the field', async () => {
    const probes = [...operations.values()].flatMap((operation) => stringFieldProbes(operation, probeContext()));
    // Every operation with a body, a path or a query has fields, and every one of them is probed.
    const probed = new Set(probes.map((probe) => probe.operation.name));
    const withFields = [...operations.values()].filter((operation) => operation.body || operation.pathParameters.length > 0 || operation.queryParameters.length > 0).map((operation) => operation.name);
    expect(withFields.filter((name) => !probed.has(name))).toEqual([]);
    expect(probes.length).toBeGreaterThan(200);

    const failures: string[] = [];
    for (const probe of probes) {
      const response = await send(subject.app, probe.request);
      const errors = (response.body as { errors?: Array<{ path?: unknown }> })?.errors;
      const named = response.status === 400 && Array.isArray(errors) && errors.some((error) => typeof error?.path === 'string' && probe.names(error.path));
      if (!named) {
        failures.push(`${probe.operation.name} ${probe.where} ${probe.field} holding ${preview(probe.character)}: ${response.status} ${preview(JSON.stringify(errors ?? response.body), 200)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('sends probes that differ from a valid request only in the probed field', async () => {
    // The control: each probed request with the field's own valid value does not name that field.
    const probes = [...operations.values()].flatMap((operation) => stringFieldProbes(operation, probeContext()));
    const failures: string[] = [];
    const sent = new Set<string>();
    for (const probe of probes) {
      const key = `${probe.field} ${probe.control.method} ${probe.control.url} ${probe.control.body}`;
      if (sent.has(key)) continue;
      sent.add(key);
      const response = await send(subject.app, probe.control);
      const errors = (response.body as { errors?: Array<{ path?: unknown }> })?.errors ?? [];
      if (response.status === 400 && errors.some((error) => typeof error?.path === 'string' && probe.names(error.path))) {
        failures.push(`${probe.operation.name} ${probe.where} ${probe.field}: the valid control was refused: ${preview(JSON.stringify(errors), 200)}`);
      }
    }
    expect(failures).toEqual([]);
  });
});

describe('bounds the fuzz must not leave to chance', () => {
  // A team of its own: the fuzzed team may have reached its concurrent-run ceiling by now.
  let boundsToken: string;
  beforeAll(async () => {
    boundsToken = (await login(subject.app, (await provisionTeam(orm)).members.owner.email)).accessToken;
  });
  const planWith = (value: unknown) => toJsonText({ steps: [{ kind: 'records.write', key: 'bounds', value }] });
  const submitPlan = (body: string) => request(subject.app).post('/api/v1/runs').set('Authorization', `Bearer ${boundsToken}`).set('Content-Type', 'application/json').send(body);
  const fieldErrors = (response: request.Response) => ((response.body?.errors ?? []) as Array<{ path: string }>).map((error) => error.path);

  it('refuses a record value nested deeper than 32 levels with a 400 naming the value, however deep', async () => {
    for (const value of [nestedObjects(33), nestedArrays(33), nestedObjects(2_000), nestedArrays(7_000)]) {
      const body = planWith(value);
      expect(body.length).toBeLessThan(16 * 1024);
      const response = await submitPlan(body);
      expect({ depth: body.length, status: response.status, problem: responseViolations({ status: response.status, contentType: response.headers['content-type'] ?? '', body: response.body }) }).toEqual({ depth: body.length, status: 400, problem: [] });
      expect(fieldErrors(response).some((path) => path === 'steps.0.value' || path.startsWith('steps.0.value.'))).toBe(true);
    }
  });

  it('accepts a record value exactly 32 levels deep', async () => {
    const response = await submitPlan(planWith(nestedObjects(32)));
    expect({ status: response.status, errors: response.body?.errors }).toEqual({ status: 202, errors: undefined });
  });

  it('refuses a record value past the byte limit with a 400 naming the value', async () => {
    const response = await submitPlan(planWith('x'.repeat(8 * 1024 + 1)));
    expect(response.status).toBe(400);
    expect(fieldErrors(response).some((path) => path === 'steps.0.value' || path.startsWith('steps.0.value.'))).toBe(true);
  });

  it('refuses a body of 10 000 unclosed brackets with a 400 problem', async () => {
    const response = await submitPlan('['.repeat(10_000));
    expect({ status: response.status, violations: responseViolations({ status: response.status, contentType: response.headers['content-type'] ?? '', body: response.body }) }).toEqual({ status: 400, violations: [] });
  });

  it('answers odd Authorization headers on a guarded route with a 401 problem', async () => {
    const headers = ['Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', `Bearer ${'a'.repeat(9_000)}`, 'Bearer a.b.c', 'Bearer cp_live_', 'Bearer cp_live_xxxxxxxx_short', 'bearer  two  spaces', 'Bearer \u00ff', 'Bearer eyJhbGciOiJub25lIn0.e30.'];
    for (const header of headers) {
      const response = await request(subject.app).get(`/api/v1/tenants/${team.tenantId}/limits`).set('Authorization', header);
      const violations = responseViolations({ status: response.status, contentType: response.headers['content-type'] ?? '', body: response.body });
      expect({ header: header.slice(0, 40), status: response.status, violations }).toEqual({ header: header.slice(0, 40), status: 401, violations: [] });
    }
  });

  it('refuses a cursor whose id overflows a bigint, or is no id at all, with a 400 naming the cursor', async () => {
    const paged = [...operations.values()].filter((operation) => operation.queryParameters.some((parameter) => parameter.name === 'cursor'));
    expect(paged.length).toBeGreaterThan(0);
    const failures: string[] = [];
    for (const operation of paged) {
      for (const cursor of HOSTILE_CURSORS) {
        const response = await request(subject.app).get(`${operation.template}?cursor=${cursor}`).set('Authorization', `Bearer ${OPERATORS.ops.token}`);
        const decoded = Buffer.from(cursor, 'base64url').toString();
        if (response.status !== 400 || !fieldErrors(response).includes('cursor')) failures.push(`${operation.name} cursor ${decoded}: ${response.status} ${preview(JSON.stringify(response.body), 160)}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
