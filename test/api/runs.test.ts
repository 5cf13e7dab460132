import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { OPERATOR_ACTOR, asOperator, asOwner, asOwnerSession, asRole, startRunApiHarness, type RunApiHarness } from '../support/run-api';
import { setTenantStatus, tenantData } from '../support/runs';
import { waitFor } from '../support/wait';

let harness: RunApiHarness;

beforeAll(async () => {
  harness = await startRunApiHarness();
});
afterAll(() => harness.close());

interface RunBody {
  phase: string;
  pendingApproval: unknown;
  steps: Array<{ state: string }>;
}

/** Polls the tenant's view of a run until `done` holds for it. */
async function runView(headers: Record<string, string>, runId: string, done: (body: RunBody) => boolean) {
  let body: Record<string, unknown> = {};
  await waitFor(async () => {
    const response = await request(harness.app).get(`/api/v1/runs/${runId}`).set(headers);
    body = response.body;
    return response.status === 200 && done(response.body);
  });
  return body;
}
const finished = (body: RunBody) => body.phase === 'COMPLETED' || body.phase === 'FAILED';

describe('POST /api/v1/runs', () => {
  it('refuses a request without credentials, with an unknown key, or from a role that may not submit', async () => {
    const tenant = await harness.tenant();
    const plan = { steps: [{ kind: 'credits.debit', amount: 1 }] };
    const before = await harness.orm.em.fork().execute('select count(*) as n from run where tenant_id = ?', [tenant.tenantId]);

    const noCredentials = await request(harness.app).post('/api/v1/runs').send(plan);
    expect(noCredentials.status).toBe(401);
    expect(noCredentials.headers['content-type']).toMatch(/application\/problem\+json/);

    const unknownKey = await request(harness.app).post('/api/v1/runs').set({ authorization: `Bearer ${tenant.keys.owner.slice(0, -4)}AAAA` }).send(plan);
    expect(unknownKey.status).toBe(401);

    const viewer = await request(harness.app).post('/api/v1/runs').set(asRole(tenant, 'viewer')).send(plan);
    expect(viewer.status).toBe(403);

    const after = await harness.orm.em.fork().execute('select count(*) as n from run where tenant_id = ?', [tenant.tenantId]);
    expect(after).toEqual(before);
  });

  it('answers 400 problem+json naming the field for an unknown kind, a bad argument, an unknown field or too many steps', async () => {
    const tenant = await harness.tenant();
    const post = (body: unknown) => request(harness.app).post('/api/v1/runs').set(asOwner(tenant)).send(body as object);

    const unknownKind = await post({ steps: [{ kind: 'credits.debit', amount: 1 }, { kind: 'shell.exec', command: 'rm -rf /' }] });
    expect(unknownKind.status).toBe(400);
    expect(unknownKind.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(unknownKind.body).toMatchObject({ title: 'Validation failed', status: 400, errors: [{ path: 'steps.1.kind', message: expect.stringContaining('must be one of') }] });

    const badArgument = await post({ steps: [{ kind: 'credits.debit', amount: -5 }] });
    expect(badArgument.body.errors).toEqual([{ path: 'steps.0.amount', message: expect.any(String) }]);

    const unknownField = await post({ steps: [{ kind: 'records.delete', key: 'k', cascade: true }], priority: 'high' });
    expect(unknownField.body.errors).toEqual(
      expect.arrayContaining([
        { path: 'steps.0.cascade', message: 'is not a known field' },
        { path: 'priority', message: 'is not a known field' },
      ]),
    );

    const tooMany = await post({ steps: Array.from({ length: 21 }, () => ({ kind: 'credits.debit', amount: 1 })) });
    expect(tooMany.body.errors).toEqual([{ path: 'steps', message: 'must hold at most 20 steps' }]);

    const notJson = await request(harness.app).post('/api/v1/runs').set(asOwner(tenant)).set('content-type', 'application/json').send('{"steps": [');
    expect(notJson.status).toBe(400);
    expect(await tenantData(harness.orm, tenant.tenantId)).toMatchObject({ ledger: [] });
  });

  it('accepts a plan with 202 and a Location whose run reaches COMPLETED with its step states', async () => {
    const tenant = await harness.tenant();
    const response = await request(harness.app)
      .post('/api/v1/runs')
      .set(asOwner(tenant))
      .send({ description: 'first run', steps: [{ kind: 'records.write', key: 'hello', value: 'world' }, { kind: 'credits.debit', amount: 2 }] });
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ runId: expect.any(String), phase: 'CREATED', duplicate: false });
    expect(response.headers.location).toBe(`/api/v1/runs/${response.body.runId}`);

    const body = await runView(asOwner(tenant), response.body.runId, finished);
    expect(body).toMatchObject({
      runId: response.body.runId,
      tenantId: tenant.tenantId,
      phase: 'COMPLETED',
      outcome: 'completed',
      cause: null,
      degraded: false,
      steps: [
        { index: 0, kind: 'records.write', state: 'completed' },
        { index: 1, kind: 'credits.debit', state: 'completed' },
      ],
    });
    expect((await tenantData(harness.orm, tenant.tenantId)).records).toEqual({ hello: 'world' });
  });

  it('lands a retried POST with the same Idempotency-Key on the same run, and refuses the key for another plan', async () => {
    const tenant = await harness.tenant();
    const plan = { steps: [{ kind: 'credits.debit', amount: 3 }] };
    const first = await request(harness.app).post('/api/v1/runs').set(asOwner(tenant)).set('idempotency-key', 'order-42').send(plan);
    const again = await request(harness.app).post('/api/v1/runs').set(asOwner(tenant)).set('idempotency-key', 'order-42').send(plan);
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ runId: first.body.runId, duplicate: true });
    await runView(asOwner(tenant), first.body.runId, finished);
    const afterEnd = await request(harness.app).post('/api/v1/runs').set(asOwner(tenant)).set('idempotency-key', 'order-42').send(plan);
    expect(afterEnd.body).toMatchObject({ runId: first.body.runId, duplicate: true });
    expect((await tenantData(harness.orm, tenant.tenantId)).ledger).toHaveLength(1);

    const otherPlan = await request(harness.app)
      .post('/api/v1/runs')
      .set(asOwner(tenant))
      .set('idempotency-key', 'order-42')
      .send({ steps: [{ kind: 'credits.debit', amount: 4 }] });
    expect(otherPlan.status).toBe(409);
  });

  it('refuses a suspended tenant at submission with 403 naming the lifecycle gate, and starts nothing', async () => {
    const tenant = await harness.tenant();
    await setTenantStatus(harness.orm, tenant.tenantId, 'suspended');
    const response = await request(harness.app).post('/api/v1/runs').set(asOwner(tenant)).send({ steps: [{ kind: 'credits.debit', amount: 1 }] });
    expect(response.status).toBe(403);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(JSON.stringify(response.body)).toMatch(/suspended/);
    const runs = await harness.orm.em.fork().execute('select count(*) as n from run where tenant_id = ?', [tenant.tenantId]);
    expect(Number(runs[0]?.n)).toBe(0);
  });

  it('throttles a tenant past its concurrent-run limit with 429 and Retry-After', async () => {
    const tenant = await harness.tenant();
    const concurrent = (await harness.access.billing.viewOf(tenant.tenantId))!.limits.concurrentRuns;
    const waiting = { steps: [{ kind: 'approval', timeout: '1h' }] };
    const opened = async () => Number((await harness.orm.em.fork().execute('select count(*) as n from run where tenant_id = ?', [tenant.tenantId]))[0]?.n);
    for (let index = 0; index < concurrent; index += 1) {
      expect((await request(harness.app).post('/api/v1/runs').set(asOwner(tenant)).send(waiting)).status).toBe(202);
      // The ceiling counts runs the workflow has opened in Postgres; a burst faster than that can overshoot by the few in between.
      await waitFor(async () => (await opened()) === index + 1);
    }
    const over = await request(harness.app).post('/api/v1/runs').set(asOwner(tenant)).send(waiting);
    expect(over.status).toBe(429);
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect(JSON.stringify(over.body)).toMatch(/protection|concurrent/);
  });
});

describe('GET /api/v1/runs/{id}', () => {
  it("answers 404 for another tenant's run or an unknown one, 400 for a malformed id", async () => {
    const tenant = await harness.tenant();
    const other = await harness.tenant();
    const submitted = await request(harness.app).post('/api/v1/runs').set(asOwner(tenant)).send({ steps: [{ kind: 'credits.debit', amount: 1 }] });
    expect((await request(harness.app).get(`/api/v1/runs/${submitted.body.runId}`).set(asOwner(other))).status).toBe(404);
    expect((await request(harness.app).get(`/api/v1/runs/${randomUUID()}`).set(asOwner(tenant))).status).toBe(404);
    const malformed = await request(harness.app).get('/api/v1/runs/not-a-uuid').set(asOwner(tenant));
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors).toEqual([{ path: 'runId', message: 'must be a run id (a uuid)' }]);
  });
});

describe('approve and reject', () => {
  it('an owner approves the pending approval; a plain member may not; a decision on a finished run is a 409', async () => {
    const tenant = await harness.tenant();
    const asMember = asRole(tenant, 'member');

    const submitted = await request(harness.app)
      .post('/api/v1/runs')
      .set(asOwner(tenant))
      .send({ steps: [{ kind: 'records.write', key: 'k', value: 1 }, { kind: 'approval', reason: 'check it', timeout: '1h' }] });
    const runId = submitted.body.runId as string;
    const waiting = await runView(asMember, runId, (body) => body.pendingApproval !== null);
    expect(waiting).toMatchObject({ phase: 'EXECUTING', pendingApproval: { key: 'step:1', reason: 'check it' } });

    expect((await request(harness.app).post(`/api/v1/runs/${runId}/approve`).set(asMember).send({})).status).toBe(403);
    const wrongKey = await request(harness.app).post(`/api/v1/runs/${runId}/approve`).set(asOwnerSession(tenant)).send({ approvalKey: 'governance' });
    expect(wrongKey.status).toBe(409);
    expect(wrongKey.body).toMatchObject({ title: 'Transition refused', reason: 'ApprovalKeyMismatch' });

    const approved = await request(harness.app).post(`/api/v1/runs/${runId}/approve`).set(asOwnerSession(tenant)).send({ approvalKey: 'step:1', note: 'fine' });
    expect(approved.status).toBe(200);
    expect(approved.body).toEqual({ runId, approvalKey: 'step:1', decision: 'approved' });
    const done = await runView(asOwner(tenant), runId, finished);
    // The detail names the submitting key and the person who decided.
    expect(done).toMatchObject({
      submittedBy: { actor: expect.stringMatching(/^api_key:/), apiKeyId: expect.any(String), userId: null },
      decisions: [{ approvalKey: 'step:1', decision: 'approved', actor: `user:${tenant.owner.userId}`, note: 'fine', at: expect.any(String) }],
    });
    const late = await request(harness.app).post(`/api/v1/runs/${runId}/reject`).set(asOwnerSession(tenant)).send();
    expect(late.status).toBe(409);
  });

  it('reject rolls the run back', async () => {
    const tenant = await harness.tenant();
    const submitted = await request(harness.app)
      .post('/api/v1/runs')
      .set(asOwner(tenant))
      .send({ steps: [{ kind: 'records.write', key: 'k', value: 1 }, { kind: 'approval' }] });
    await runView(asOwner(tenant), submitted.body.runId, (body) => body.pendingApproval !== null);
    expect((await request(harness.app).post(`/api/v1/runs/${submitted.body.runId}/reject`).set(asOwnerSession(tenant)).send({ note: 'no' })).status).toBe(200);
    const body = await runView(asOwner(tenant), submitted.body.runId, finished);
    expect(body).toMatchObject({ phase: 'FAILED', cause: { type: 'ApprovalRejected' }, steps: [{ state: 'compensated' }, { state: 'failed' }] });
    expect((await tenantData(harness.orm, tenant.tenantId)).records).toEqual({});
  });
});

describe('operator run routes', () => {
  it('refuse a missing or wrong bearer token with 401', async () => {
    const runId = randomUUID();
    expect((await request(harness.app).get(`/api/v1/admin/runs/${runId}/audit`)).status).toBe(401);
    const wrong = await request(harness.app).post(`/api/v1/admin/runs/${runId}/terminate`).set({ authorization: 'Bearer not-the-token' }).send({ reason: 'x' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toMatch(/^Bearer/);
    expect((await request(harness.app).get(`/api/v1/admin/runs/${runId}/audit`).set(asOperator)).status).toBe(404);
  });

  it('terminate rolls a waiting run back to FAILED; terminating it again is a 409; its audit shows the contract met', async () => {
    const tenant = await harness.tenant();
    const submitted = await request(harness.app)
      .post('/api/v1/runs')
      .set(asOwner(tenant))
      .send({ steps: [{ kind: 'credits.debit', amount: 8 }, { kind: 'wait', duration: '1h' }, { kind: 'credits.debit', amount: 1 }] });
    const runId = submitted.body.runId as string;
    await runView(asOwner(tenant), runId, (body) => body.steps[1]!.state === 'running');
    const noReason = await request(harness.app).post(`/api/v1/admin/runs/${runId}/terminate`).set(asOperator).send({});
    expect(noReason.body.errors).toEqual([{ path: 'reason', message: expect.any(String) }]);
    const terminated = await request(harness.app).post(`/api/v1/admin/runs/${runId}/terminate`).set(asOperator).send({ reason: 'abuse report' });
    expect(terminated.status).toBe(202);
    expect(terminated.body).toEqual({ runId, accepted: 'terminate', phase: 'EXECUTING' });
    const body = await runView(asOwner(tenant), runId, finished);
    expect(body).toMatchObject({ phase: 'FAILED', cause: { type: 'OperatorTerminated', actor: OPERATOR_ACTOR } });
    expect((await tenantData(harness.orm, tenant.tenantId)).balance).toBe(0);
    expect((await request(harness.app).post(`/api/v1/admin/runs/${runId}/terminate`).set(asOperator).send({ reason: 'again' })).status).toBe(409);

    const audit = await request(harness.app).get(`/api/v1/admin/runs/${runId}/audit`).set(asOperator);
    expect(audit.status).toBe(200);
    expect(audit.body).toMatchObject({
      runId,
      tenantId: tenant.tenantId,
      phase: 'FAILED',
      findings: { missing: [], drift: [], stale: false },
      incident: { failureType: 'OperatorTerminated' },
    });
    expect(audit.body.expectations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'step:0', acked: true }),
        expect.objectContaining({ key: 'step:2', acked: false, waivedReason: expect.stringContaining('OperatorTerminated') }),
        expect.objectContaining({ key: 'compensate:0', acked: true }),
        expect.objectContaining({ key: 'finalize_run', acked: true }),
      ]),
    );
    expect(audit.body.trail.map((event: { action: string }) => event.action)).toContain('run.rollback_started');
  });

  it('force-complete ends a waiting run COMPLETED with the override in its audit trail', async () => {
    const tenant = await harness.tenant();
    const submitted = await request(harness.app)
      .post('/api/v1/runs')
      .set(asOwner(tenant))
      .send({ steps: [{ kind: 'records.write', key: 'k', value: 1 }, { kind: 'approval', timeout: '1d' }] });
    const runId = submitted.body.runId as string;
    await runView(asOwner(tenant), runId, (body) => body.pendingApproval !== null);
    expect((await request(harness.app).post(`/api/v1/admin/runs/${runId}/force-complete`).set(asOperator).send({ reason: 'approver on leave' })).status).toBe(202);
    const body = await runView(asOwner(tenant), runId, finished);
    expect(body).toMatchObject({ phase: 'COMPLETED', override: { actor: OPERATOR_ACTOR, reason: 'approver on leave', skippedSteps: [1], skippedGovernance: true } });
    const audit = await request(harness.app).get(`/api/v1/admin/runs/${runId}/audit`).set(asOperator);
    expect(audit.body.trail).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'run.force_completed', actor: OPERATOR_ACTOR, reason: 'approver on leave' })]));
    expect(audit.body.findings).toEqual({ missing: [], drift: [], stale: false });
  });
});
