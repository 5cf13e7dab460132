/**
 * Four eyes on approval (issue 21, item 1), tried from outside as an attacker would: over real HTTP against the stack
 * `npm start` runs. Whoever submitted a run cannot approve or reject it, with any credential of theirs; API keys decide
 * nothing unless the tenant allows it, and never their own runs. Each refusal is a 403 that says why, is audited, and
 * leaves the run waiting with nothing else written or sent.
 */
import { randomInt } from 'node:crypto';
import { KNOWN_PASSWORD, provisionTeam, type TestTenant } from '../support/auth';
import { mailsTo } from '../support/mailpit';
import { startSecurityStack, type HttpAnswer, type SecurityStack } from '../support/security-stack';
import { tenantData } from '../support/runs';
import { waitFor } from '../support/wait';

let stack: SecurityStack;

beforeAll(async () => {
  stack = await startSecurityStack();
}, 120_000);
afterAll(() => stack?.stop());

/** A client address of this test's own, so login limits other tests hit never reach it. */
const clientAddress = () => `10.${randomInt(1, 255)}.${randomInt(1, 255)}.${randomInt(1, 255)}`;

interface Team {
  team: TestTenant;
  sessions: Record<'owner' | 'admin', { token: string; actor: string; userId: string }>;
  /** The stack's HTTP client, speaking from the team's own client address. */
  call: SecurityStack['call'];
}

/** A team whose debits need an approval (threshold 0, the setup), its owner and admin signed in. */
async function team(): Promise<Team> {
  const team = await provisionTeam(stack.orm);
  const from = clientAddress();
  const call: SecurityStack['call'] = (method, path, options = {}) => stack.call(method, path, { from, ...options });
  const sessions = {} as Team['sessions'];
  for (const role of ['owner', 'admin'] as const) {
    const member = team.members[role];
    const login = await call('POST', '/api/v1/auth/login', { body: { email: member.email, password: KNOWN_PASSWORD } });
    expect(login.status).toBe(200);
    sessions[role] = { token: login.body.accessToken, actor: `user:${member.userId}`, userId: member.userId };
  }
  // Room for several waiting runs: a paying plan, not the trial's single concurrent run (test setup, not under test).
  await stack.orm.em.fork().execute(`update billing_account set plan = 'pro', subscription_state = 'active' where tenant_id = ?`, [team.tenantId]);
  const rule = await call('PUT', `/api/v1/tenants/${team.tenantId}/policies/require_approval_over_debit`, { token: sessions.owner.token, body: { params: { threshold: 0 } } });
  expect(rule.status).toBe(201);
  return { team, sessions, call };
}

async function createKey(world: Team, by: 'owner' | 'admin'): Promise<{ key: string; id: string }> {
  const created = await world.call('POST', `/api/v1/tenants/${world.team.tenantId}/api-keys`, { token: world.sessions[by].token, body: { name: `${by} automation`, role: by } });
  expect(created.status).toBe(201);
  return { key: created.body.key, id: created.body.id };
}

async function allowApiKeyApproval(world: Team): Promise<void> {
  const rule = await world.call('PUT', `/api/v1/tenants/${world.team.tenantId}/policies/allow_api_key_approval`, { token: world.sessions.owner.token, body: { params: {} } });
  expect(rule.status).toBe(201);
}

/** Submits a debit run with `token` and waits until it asks for its governance approval. */
async function waitingDebitRun(world: Team, token: string): Promise<string> {
  const submitted = await world.call('POST', '/api/v1/runs', { token, body: { description: 'pay the supplier', steps: [{ kind: 'credits.debit', amount: 5 }] } });
  expect(submitted.status).toBe(202);
  const runId = submitted.body.runId as string;
  await waitFor(async () => (await world.call('GET', `/api/v1/runs/${runId}`, { token: world.sessions.owner.token })).body?.pendingApproval?.key === 'governance', { timeoutMs: 30_000 });
  return runId;
}

/** What a decision could change about a run: its phase, acks, trail (refusals aside), the tenant's ledger. */
async function runWorld(runId: string, tenantId: string) {
  const em = stack.orm.em.fork();
  return {
    run: await em.execute('select phase, outcome, step_states from run where id = ?', [runId]),
    acks: await em.execute('select key from run_ack where run_id = ? order by key', [runId]),
    trail: await em.execute(`select action, actor from audit_event where correlation_id = ? and action <> 'run.approval_refused' order by id`, [runId]),
    ledger: (await tenantData(stack.orm, tenantId)).ledger,
  };
}

async function refusals(runId: string) {
  return stack.orm.em.fork().execute<Array<{ actor: string; reason: string; details: { decision: string; refusal: string } }>>(
    `select actor, reason, details from audit_event where correlation_id = ? and action = 'run.approval_refused' order by id`,
    [runId],
  );
}

function expectFourEyesProblem(answer: HttpAnswer, title: 'Approval by submitter' | 'Approval needs a person') {
  expect(answer.status).toBe(403);
  expect(answer.headers.get('content-type')).toMatch(/application\/problem\+json/);
  expect(answer.body).toMatchObject({ status: 403, title, reason: title === 'Approval by submitter' ? 'ApprovalBySubmitter' : 'ApprovalNeedsPerson', detail: expect.any(String) });
}

describe('four eyes on approval, over HTTP against the running stack', () => {
  it("refuses the submitter's own session its approval and its rejection: 403 that says why, audited, the run still waits", async () => {
    const world = await team();
    const runId = await waitingDebitRun(world, world.sessions.admin.token);
    const before = await runWorld(runId, world.team.tenantId);

    const approve = await world.call('POST', `/api/v1/runs/${runId}/approve`, { token: world.sessions.admin.token, body: { approvalKey: 'governance', note: 'looks fine to me' } });
    expectFourEyesProblem(approve, 'Approval by submitter');
    expect(approve.body.detail).toMatch(/submitted this run/);
    const reject = await world.call('POST', `/api/v1/runs/${runId}/reject`, { token: world.sessions.admin.token, body: {} });
    expectFourEyesProblem(reject, 'Approval by submitter');

    expect(await refusals(runId)).toEqual([
      { actor: world.sessions.admin.actor, reason: expect.stringMatching(/submitted this run/), details: expect.objectContaining({ decision: 'approve', refusal: 'ApprovalBySubmitter' }) },
      { actor: world.sessions.admin.actor, reason: expect.stringMatching(/submitted this run/), details: expect.objectContaining({ decision: 'reject', refusal: 'ApprovalBySubmitter' }) },
    ]);
    expect(await runWorld(runId, world.team.tenantId)).toEqual(before);
    const detail = await world.call('GET', `/api/v1/runs/${runId}`, { token: world.sessions.owner.token });
    expect(detail.body).toMatchObject({ phase: 'GOVERNANCE_CHECK', outcome: null, pendingApproval: { key: 'governance' }, decisions: [] });
    expect(await mailsTo(world.team.members.owner.email)).toEqual([]);
    expect(await mailsTo(world.team.members.admin.email)).toEqual([]);
  });

  it("refuses an admin's API key a run that admin submitted in a session, even where the tenant lets keys approve", async () => {
    const world = await team();
    const adminKey = await createKey(world, 'admin');
    await allowApiKeyApproval(world);
    const runId = await waitingDebitRun(world, world.sessions.admin.token);
    const before = await runWorld(runId, world.team.tenantId);

    const approve = await world.call('POST', `/api/v1/runs/${runId}/approve`, { token: adminKey.key, body: {} });
    expectFourEyesProblem(approve, 'Approval by submitter');
    expect(approve.body.detail).toMatch(/creator or owner submitted the run/);

    expect(await refusals(runId)).toEqual([expect.objectContaining({ actor: `api_key:${adminKey.id}`, details: expect.objectContaining({ refusal: 'ApprovalBySubmitter' }) })]);
    expect(await runWorld(runId, world.team.tenantId)).toEqual(before);
    expect((await world.call('GET', `/api/v1/runs/${runId}`, { token: world.sessions.owner.token })).body).toMatchObject({ pendingApproval: { key: 'governance' } });
  });

  it('refuses the key that submitted a run its own approval (the issue: an admin key approves its own debit run)', async () => {
    const world = await team();
    const adminKey = await createKey(world, 'admin');
    const runId = await waitingDebitRun(world, adminKey.key);
    const before = await runWorld(runId, world.team.tenantId);

    const byDefault = await world.call('POST', `/api/v1/runs/${runId}/approve`, { token: adminKey.key, body: {} });
    expectFourEyesProblem(byDefault, 'Approval by submitter');
    await allowApiKeyApproval(world);
    const allowed = await world.call('POST', `/api/v1/runs/${runId}/approve`, { token: adminKey.key, body: {} });
    expectFourEyesProblem(allowed, 'Approval by submitter');
    // Another key of the same admin, and the admin in person, are the same four eyes.
    const secondKey = await createKey(world, 'admin');
    expectFourEyesProblem(await world.call('POST', `/api/v1/runs/${runId}/approve`, { token: secondKey.key, body: {} }), 'Approval by submitter');
    expectFourEyesProblem(await world.call('POST', `/api/v1/runs/${runId}/approve`, { token: world.sessions.admin.token, body: {} }), 'Approval by submitter');

    expect((await refusals(runId)).map((row) => [row.actor, row.details.refusal])).toEqual([
      [`api_key:${adminKey.id}`, 'ApprovalBySubmitter'],
      [`api_key:${adminKey.id}`, 'ApprovalBySubmitter'],
      [`api_key:${secondKey.id}`, 'ApprovalBySubmitter'],
      [world.sessions.admin.actor, 'ApprovalBySubmitter'],
    ]);
    expect(await runWorld(runId, world.team.tenantId)).toEqual(before);
    const detail = await world.call('GET', `/api/v1/runs/${runId}`, { token: world.sessions.owner.token });
    expect(detail.body).toMatchObject({ pendingApproval: { key: 'governance' }, submittedBy: { actor: `api_key:${adminKey.id}`, apiKeyId: adminKey.id, userId: world.sessions.admin.userId } });
  });

  it('refuses the creator of a key re-owned to another member: neither the run that key submitted nor a decision by that key', async () => {
    const world = await team();
    await allowApiKeyApproval(world);
    const { tenantId } = world.team;
    /** The owner makes an admin key and re-owns it to the admin through the real route, keeping its secret. */
    const reownedKey = async (): Promise<{ key: string; id: string }> => {
      const created = await world.call('POST', `/api/v1/tenants/${tenantId}/api-keys`, { token: world.sessions.owner.token, body: { name: 'handed over', role: 'admin' } });
      expect(created.status).toBe(201);
      const reowned = await world.call('PUT', `/api/v1/tenants/${tenantId}/api-keys/${created.body.id}/owner`, { token: world.sessions.owner.token, body: { userId: world.sessions.admin.userId } });
      expect(reowned.status).toBe(200);
      return { key: created.body.key, id: created.body.id };
    };

    // Exploit one: submit with the re-owned key (the run records the admin), approve in the owner's own session.
    const submittingKey = await reownedKey();
    const byKey = await waitingDebitRun(world, submittingKey.key);
    expect((await world.call('GET', `/api/v1/runs/${byKey}`, { token: world.sessions.owner.token })).body.submittedBy).toMatchObject({ apiKeyId: submittingKey.id, userId: world.sessions.admin.userId });
    // Exploit two: submit in the owner's session, approve with a key the owner created and re-owned to the admin.
    const decidingKey = await reownedKey();
    const bySession = await waitingDebitRun(world, world.sessions.owner.token);
    const before = { byKey: await runWorld(byKey, tenantId), bySession: await runWorld(bySession, tenantId) };

    const ownerApproves = await world.call('POST', `/api/v1/runs/${byKey}/approve`, { token: world.sessions.owner.token, body: { approvalKey: 'governance' } });
    expectFourEyesProblem(ownerApproves, 'Approval by submitter');
    const keyApproves = await world.call('POST', `/api/v1/runs/${bySession}/approve`, { token: decidingKey.key, body: { approvalKey: 'governance' } });
    expectFourEyesProblem(keyApproves, 'Approval by submitter');

    expect((await refusals(byKey)).map((row) => [row.actor, row.details.decision, row.details.refusal])).toEqual([[world.sessions.owner.actor, 'approve', 'ApprovalBySubmitter']]);
    expect((await refusals(bySession)).map((row) => [row.actor, row.details.decision, row.details.refusal])).toEqual([[`api_key:${decidingKey.id}`, 'approve', 'ApprovalBySubmitter']]);
    expect({ byKey: await runWorld(byKey, tenantId), bySession: await runWorld(bySession, tenantId) }).toEqual(before);
    for (const runId of [byKey, bySession]) {
      expect((await world.call('GET', `/api/v1/runs/${runId}`, { token: world.sessions.admin.token })).body).toMatchObject({ phase: 'GOVERNANCE_CHECK', outcome: null, pendingApproval: { key: 'governance' }, decisions: [] });
    }
    expect(await mailsTo(world.team.members.owner.email)).toEqual([]);
    expect(await mailsTo(world.team.members.admin.email)).toEqual([]);
  });

  it("refuses API keys by default (audited); the tenant's allow_api_key_approval rule lets another person's key decide", async () => {
    const world = await team();
    const ownerKey = await createKey(world, 'owner');
    const runId = await waitingDebitRun(world, world.sessions.admin.token);
    const before = await runWorld(runId, world.team.tenantId);

    const refused = await world.call('POST', `/api/v1/runs/${runId}/approve`, { token: ownerKey.key, body: {} });
    expectFourEyesProblem(refused, 'Approval needs a person');
    expect(refused.body.detail).toMatch(/signed-in person/);
    expect(await refusals(runId)).toEqual([expect.objectContaining({ actor: `api_key:${ownerKey.id}`, details: expect.objectContaining({ refusal: 'ApprovalNeedsPerson' }) })]);
    expect(await runWorld(runId, world.team.tenantId)).toEqual(before);

    await allowApiKeyApproval(world);
    const approved = await world.call('POST', `/api/v1/runs/${runId}/approve`, { token: ownerKey.key, body: { approvalKey: 'governance' } });
    expect(approved.status).toBe(200);
    expect(approved.body).toEqual({ runId, approvalKey: 'governance', decision: 'approved' });
    // Switching the rule on did not halt the waiting run (who decides is not what the run may do): it completes.
    await waitFor(async () => (await world.call('GET', `/api/v1/runs/${runId}`, { token: world.sessions.owner.token })).body?.phase === 'COMPLETED', { timeoutMs: 30_000 });
    const detail = await world.call('GET', `/api/v1/runs/${runId}`, { token: world.sessions.owner.token });
    expect(detail.body.decisions).toEqual([expect.objectContaining({ approvalKey: 'governance', decision: 'approved', actor: `api_key:${ownerKey.id}` })]);
  });

  it('lets a different owner approve with 200; the detail shows who submitted and who decided', async () => {
    const world = await team();
    const runId = await waitingDebitRun(world, world.sessions.admin.token);

    const approved = await world.call('POST', `/api/v1/runs/${runId}/approve`, { token: world.sessions.owner.token, body: { approvalKey: 'governance', note: 'invoice checked' } });
    expect(approved.status).toBe(200);
    expect(approved.body).toEqual({ runId, approvalKey: 'governance', decision: 'approved' });
    await waitFor(async () => (await world.call('GET', `/api/v1/runs/${runId}`, { token: world.sessions.owner.token })).body?.phase === 'COMPLETED', { timeoutMs: 30_000 });

    const detail = await world.call('GET', `/api/v1/runs/${runId}`, { token: world.sessions.admin.token });
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({
      phase: 'COMPLETED',
      submittedBy: { actor: world.sessions.admin.actor, userId: world.sessions.admin.userId, apiKeyId: null },
      decisions: [{ approvalKey: 'governance', decision: 'approved', actor: world.sessions.owner.actor, note: 'invoice checked', at: expect.any(String) }],
    });
    expect(await refusals(runId)).toEqual([]);
  });
});
