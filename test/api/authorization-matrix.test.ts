/**
 * Every guarded route of the app × every credential that must be refused. Routes come from the app's own router
 * stack, so a new route joins the matrix by existing (and fails it until it has a sample request here).
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { parseRequirement, type AuthRequirement } from '../../src/api/auth';
import type { Orm } from '../../src/db/orm';
import { setPolicyRule } from '../../src/db/policy-rules';
import { operatorRolesBelow, PERMISSIONS, rolesBelow } from '../../src/domain/permissions';
import type { PolicyRuleName } from '../../src/domain/run-policy';
import { bearer, buildTestApp, createApiKey, expiredAccessToken, login, OPERATORS, provisionTeam, setTenantStatus, tenantWorld, type TestApp, type TestTenant } from '../support/auth';
import { routeTable, type RouteEntry } from '../support/routes';
import { createActiveTenant } from '../support/runs';
import { provisioningWorkflowId } from '../../src/temporal/workflow-ids';
import { provisionInput } from '../../tools/fixtures/provisioning';
import { connectToDevServer, startWorker, testOrm, uniqueTaskQueue, type DevServerHarness } from '../support/stack';
import { waitFor } from '../support/wait';
import type { Worker } from '@temporalio/worker';

let orm: Orm;
let subject: TestApp;
let home: TestTenant;
let foreign: TestTenant;
let homeKeyId: string;
/** A viewer key only the re-owning sample moves (to the home viewer, who holds its role). */
let reownedKeyId: string;
let temporal: DevServerHarness;
let worker: Worker;
let workerRun: Promise<void>;
/** Home runs waiting for an approval, one per route that acts on a run, so each sample still has something to act on. */
const homeRuns: Record<'read' | 'approve' | 'reject' | 'audit' | 'terminate' | 'forceComplete', string> = {} as never;
const WAITING_PLAN = { steps: [{ kind: 'approval', timeout: '1h' }] };
/** Pending invitations of the home tenant, one per route that acts on one. */
const homeInvitations: Record<'revoke' | 'extend', string> = {} as never;
/** A finished signup saga, for the operators' detailed signup view. */
let signupWorkflowId: string;
/** A member only the removal sample removes, so the team the other samples act on stays whole. */
let removableMemberId: string;
/** Loose enough never to stop a sample run; each is a valid value of its rule. */
const POLICY_SAMPLE_PARAMS: Record<PolicyRuleName, Record<string, unknown>> = {
  max_debit_total: { limit: 1_000_000 },
  forbidden_step_kinds: { kinds: ['records.delete'] },
  max_steps: { limit: 20 },
  require_approval_over_debit: { threshold: 1_000_000 },
  allow_api_key_approval: {},
};

interface Sample {
  path: string;
  body?: unknown;
}

/**
 * Lifecycle changes are valid only from some states, and one of them (terminate) ends the tenant. Refused, they aim at
 * the home tenant like every sample; served, each aims at a tenant of its own in a state that allows it, so serving
 * them neither depends on their order nor takes the home tenant down under the routes that follow.
 */
const lifecycleSubjects: Record<string, string> = {};
const LIFECYCLE_SUBJECT_STATES = {
  'POST /api/v1/admin/tenants/:tenantId/suspend': 'active',
  'POST /api/v1/admin/tenants/:tenantId/unsuspend': 'suspended',
  'POST /api/v1/admin/tenants/:tenantId/restore': 'pending_deletion',
  'POST /api/v1/admin/tenants/:tenantId/terminate': 'active',
  'POST /api/v1/admin/tenants/:tenantId/force-complete': 'active',
  'DELETE /api/v1/admin/tenants/:tenantId': 'active',
} as const;
const adminTenant = (tenantId?: string) => `/api/v1/admin/tenants/${tenantId ?? home.tenantId}`;

/**
 * One valid request per guarded route, aimed at the home tenant (or the lifecycle subject it is given): refused only
 * because of who sends it.
 */
const SAMPLES: Record<string, (lifecycleSubject?: string) => Sample> = {
  'POST /api/v1/tenants/:tenantId/api-keys': () => ({ path: `/api/v1/tenants/${home.tenantId}/api-keys`, body: { name: 'matrix', role: 'viewer' } }),
  'GET /api/v1/tenants/:tenantId/api-keys': () => ({ path: `/api/v1/tenants/${home.tenantId}/api-keys` }),
  'DELETE /api/v1/tenants/:tenantId/api-keys/:keyId': () => ({ path: `/api/v1/tenants/${home.tenantId}/api-keys/${homeKeyId}` }),
  'PUT /api/v1/tenants/:tenantId/api-keys/:keyId/owner': () => ({ path: `/api/v1/tenants/${home.tenantId}/api-keys/${reownedKeyId}/owner`, body: { userId: home.members.viewer.userId } }),
  'POST /api/v1/auth/logout-everywhere': () => ({ path: '/api/v1/auth/logout-everywhere' }),
  'GET /api/v1/tenants/:tenantId/limits': () => ({ path: `/api/v1/tenants/${home.tenantId}/limits` }),
  'GET /api/v1/admin/tenants/:tenantId/billing-state': () => ({ path: `/api/v1/admin/tenants/${home.tenantId}/billing-state` }),
  'PUT /api/v1/admin/tenants/:tenantId/billing-state': () => ({ path: `/api/v1/admin/tenants/${home.tenantId}/billing-state`, body: { subscriptionState: 'active', reason: 'matrix' } }),
  'GET /api/v1/admin/events': () => ({ path: `/api/v1/admin/events?tenantId=${home.tenantId}` }),
  'GET /api/v1/admin/watch/lifecycle-transitions': () => ({ path: '/api/v1/admin/watch/lifecycle-transitions' }),
  'GET /api/v1/admin/watch/protection-decisions': () => ({ path: '/api/v1/admin/watch/protection-decisions' }),
  'GET /api/v1/admin/watch/billing-limit-hits': () => ({ path: '/api/v1/admin/watch/billing-limit-hits' }),
  'POST /api/v1/runs': () => ({ path: '/api/v1/runs', body: WAITING_PLAN }),
  'GET /api/v1/runs/:runId': () => ({ path: `/api/v1/runs/${homeRuns.read}` }),
  'POST /api/v1/runs/:runId/approve': () => ({ path: `/api/v1/runs/${homeRuns.approve}/approve`, body: {} }),
  'POST /api/v1/runs/:runId/reject': () => ({ path: `/api/v1/runs/${homeRuns.reject}/reject`, body: {} }),
  'GET /api/v1/admin/runs/:runId/audit': () => ({ path: `/api/v1/admin/runs/${homeRuns.audit}/audit` }),
  'POST /api/v1/admin/runs/:runId/terminate': () => ({ path: `/api/v1/admin/runs/${homeRuns.terminate}/terminate`, body: { reason: 'matrix' } }),
  'POST /api/v1/admin/runs/:runId/force-complete': () => ({ path: `/api/v1/admin/runs/${homeRuns.forceComplete}/force-complete`, body: { reason: 'matrix' } }),
  'GET /api/v1/admin/tenants/:tenantId': () => ({ path: adminTenant() }),
  'POST /api/v1/admin/tenants/:tenantId/suspend': (subject) => ({ path: `${adminTenant(subject)}/suspend`, body: { reason: 'matrix' } }),
  'POST /api/v1/admin/tenants/:tenantId/unsuspend': (subject) => ({ path: `${adminTenant(subject)}/unsuspend`, body: { reason: 'matrix' } }),
  'POST /api/v1/admin/tenants/:tenantId/restore': (subject) => ({ path: `${adminTenant(subject)}/restore`, body: { reason: 'matrix' } }),
  'POST /api/v1/admin/tenants/:tenantId/terminate': (subject) => ({ path: `${adminTenant(subject)}/terminate`, body: { reason: 'matrix' } }),
  'POST /api/v1/admin/tenants/:tenantId/force-complete': (subject) => ({ path: `${adminTenant(subject)}/force-complete`, body: { reason: 'matrix' } }),
  'DELETE /api/v1/admin/tenants/:tenantId': (subject) => ({ path: adminTenant(subject), body: { reason: 'matrix' } }),
  'GET /api/v1/admin/watch/stalled-onboardings': () => ({ path: '/api/v1/admin/watch/stalled-onboardings?olderThanHours=72&limit=10' }),
  'GET /api/v1/tenants/:tenantId': () => ({ path: `/api/v1/tenants/${home.tenantId}` }),
  'POST /api/v1/tenants/:tenantId/verification/resend': () => ({ path: `/api/v1/tenants/${home.tenantId}/verification/resend` }),
  'POST /api/v1/tenants/:tenantId/invitations': () => ({ path: `/api/v1/tenants/${home.tenantId}/invitations`, body: { email: `matrix-${randomUUID()}@example.com`, role: 'viewer' } }),
  'GET /api/v1/tenants/:tenantId/invitations': () => ({ path: `/api/v1/tenants/${home.tenantId}/invitations` }),
  'DELETE /api/v1/tenants/:tenantId/invitations/:invitationId': () => ({ path: `/api/v1/tenants/${home.tenantId}/invitations/${homeInvitations.revoke}` }),
  'GET /api/v1/tenants/:tenantId/members': () => ({ path: `/api/v1/tenants/${home.tenantId}/members` }),
  'PATCH /api/v1/tenants/:tenantId/members/:userId': () => ({ path: `/api/v1/tenants/${home.tenantId}/members/${home.members.viewer.userId}`, body: { role: 'viewer' } }),
  'DELETE /api/v1/tenants/:tenantId/members/:userId': () => ({ path: `/api/v1/tenants/${home.tenantId}/members/${removableMemberId}` }),
  'GET /api/v1/admin/mail/undelivered': () => ({ path: '/api/v1/admin/mail/undelivered?limit=10' }),
  'GET /api/v1/admin/signups/:workflowId': () => ({ path: `/api/v1/admin/signups/${signupWorkflowId}` }),
  'POST /api/v1/admin/tenants/:tenantId/verification/resend': () => ({ path: `/api/v1/admin/tenants/${home.tenantId}/verification/resend`, body: { reason: 'matrix' } }),
  'POST /api/v1/admin/tenants/:tenantId/invitations/:invitationId/extend': () => ({
    path: `/api/v1/admin/tenants/${home.tenantId}/invitations/${homeInvitations.extend}/extend`,
    body: { days: 1, reason: 'matrix' },
  }),
  ...policySamples('/api/v1/tenants/:tenantId/policies', (body) => body),
  ...policySamples('/api/v1/admin/tenants/:tenantId/policies', (body) => ({ ...body, reason: 'matrix' })),
};

/** The policy routes of one realm: read the collection and a rule the home tenant has, set each rule, switch one off. */
function policySamples(base: string, withReason: (body: Record<string, unknown>) => Record<string, unknown>): Record<string, () => Sample> {
  const path = (suffix = '') => `${base.replace(':tenantId', home.tenantId)}${suffix}`;
  const sets = Object.entries(POLICY_SAMPLE_PARAMS).map(([rule, params]) => [`PUT ${base}/${rule}`, () => ({ path: path(`/${rule}`), body: withReason({ params }) })]);
  return {
    [`GET ${base}`]: () => ({ path: path() }),
    [`GET ${base}/:rule`]: () => ({ path: path('/max_steps') }),
    ...Object.fromEntries(sets),
    [`DELETE ${base}/:rule`]: () => ({ path: path('/max_steps'), ...(base.includes('/admin/') ? { body: withReason({}) } : {}) }),
  };
}

/** Routes whose tenant is the caller's own (no :tenantId): another tenant's credential acts on its own tenant there. */
const actsOnCallersTenant = (entry: RouteEntry) => entry.path === '/api/v1/runs' || entry.path === '/api/v1/auth/logout-everywhere';

/** Served, these end the session that calls them: they go last, so the routes after them still have that session. */
const ENDS_THE_CALLERS_SESSIONS = new Set(['POST /api/v1/auth/logout-everywhere']);
const sessionEndingLast = (a: RouteEntry, b: RouteEntry) => Number(ENDS_THE_CALLERS_SESSIONS.has(`${a.method} ${a.path}`)) - Number(ENDS_THE_CALLERS_SESSIONS.has(`${b.method} ${b.path}`));

interface Credential {
  name: string;
  header: Record<string, string>;
  expected: number;
}

const credentials: Record<string, Record<string, string>> = {};

beforeAll(async () => {
  orm = await testOrm();
  const taskQueue = uniqueTaskQueue('matrix');
  subject = await buildTestApp(orm, { env: { TEMPORAL_TASK_QUEUE: taskQueue, UNVERIFIED_API_KEYS: '50', UNVERIFIED_RUNS_PER_DAY: '100000' } });
  temporal = await connectToDevServer();
  worker = await startWorker({ connection: temporal.connection, taskQueue, orm });
  workerRun = worker.run();
  home = await provisionTeam(orm);
  foreign = await provisionTeam(orm);
  const saga = provisionInput();
  signupWorkflowId = provisioningWorkflowId(saga.slug);
  await temporal.client.workflow.execute('provisionTenant', { taskQueue, workflowId: signupWorkflowId, args: [saga] });
  homeKeyId = (await createApiKey(subject.access, home.tenantId, 'viewer')).id;
  reownedKeyId = (await createApiKey(subject.access, home.tenantId, 'viewer')).id;
  for (const member of Object.values(home.members)) credentials[`home ${member.role} session`] = bearer((await login(subject.app, member.email)).accessToken);
  credentials['home owner api key'] = bearer((await createApiKey(subject.access, home.tenantId, 'owner')).key);
  credentials['foreign owner session'] = bearer((await login(subject.app, foreign.members.owner.email)).accessToken);
  credentials['foreign owner api key'] = bearer((await createApiKey(subject.access, foreign.tenantId, 'owner')).key);
  const revoked = await createApiKey(subject.access, home.tenantId, 'owner');
  await subject.access.apiKeys.revoke({ tenantId: home.tenantId, keyId: revoked.id, actor: 'test:setup' });
  credentials['revoked home owner api key'] = bearer(revoked.key);
  credentials['expired home owner token'] = bearer(await expiredAccessToken(home.members.owner, home.tenantId));
  credentials['unknown bearer token'] = bearer('an-operator-token-nobody-configured-0123456789');
  credentials['founder operator'] = bearer(OPERATORS.founder.token);
  credentials['ops operator'] = bearer(OPERATORS.ops.token);
  // A rule the single-rule read finds before any sample sets one.
  await setPolicyRule(orm.em.fork(), home.tenantId, 'max_steps', { limit: 20 });
  // Room for the runs every sample acts on: a paying plan, not the trial's single concurrent run.
  await orm.em.fork().execute(`update billing_account set plan = 'pro', subscription_state = 'active' where tenant_id = ?`, [home.tenantId]);
  for (const purpose of Object.keys({ read: 0, approve: 0, reject: 0, audit: 0, terminate: 0, forceComplete: 0 }) as Array<keyof typeof homeRuns>) {
    const submitted = await request(subject.app).post('/api/v1/runs').set(credentials['home owner api key']!).send(WAITING_PLAN);
    homeRuns[purpose] = submitted.body.runId;
  }
  for (const [route, state] of Object.entries(LIFECYCLE_SUBJECT_STATES)) {
    const { tenantId } = await createActiveTenant(orm);
    // Test setup: the lifecycle workflow starts from the state Postgres holds.
    if (state !== 'active') await setTenantStatus(orm, tenantId, state);
    lifecycleSubjects[route] = tenantId;
  }
  for (const purpose of ['revoke', 'extend'] as const) {
    const invited = await request(subject.app).post(`/api/v1/tenants/${home.tenantId}/invitations`).set(credentials['home owner session']!).send({ email: `matrix-${purpose}-${randomUUID()}@example.com`, role: 'member' });
    homeInvitations[purpose] = invited.body.id;
  }
  removableMemberId = randomUUID();
  await orm.em.fork().execute('insert into app_user (id, email, password_hash, created_at) values (?, ?, ?, now())', [removableMemberId, `matrix-leaver-${removableMemberId}@example.com`, 'scrypt$placeholder']);
  await orm.em.fork().execute(`insert into tenant_membership (id, tenant_id, user_id, role, created_at) values (?, ?, ?, 'viewer', now())`, [randomUUID(), home.tenantId, removableMemberId]);
  // A signup whose owner has not verified yet (within limits that leave every other sample room): the resend samples have a link to send.
  await orm.em.fork().execute(`update tenant set email_verification = 'pending', verification_deadline = now() + interval '7 days' where id = ?`, [home.tenantId]);
  await waitFor(async () => {
    const views = await Promise.all(Object.values(homeRuns).map((runId) => request(subject.app).get(`/api/v1/runs/${runId}`).set(credentials['home owner api key']!)));
    return views.every((view) => view.body.pendingApproval);
  });
});
afterAll(async () => {
  worker.shutdown();
  await workerRun;
  await temporal.close();
  await subject.close();
  await orm.close(true);
});

/** Who must be refused by a route of this requirement, and with which status (docs/security.md). */
function refusedCredentials(requirement: AuthRequirement): Credential[] {
  const parsed = parseRequirement(requirement);
  const invalid = (name: string): Credential => ({ name, header: credentials[name]!, expected: 401 });
  const common: Credential[] = [
    { name: 'no credentials', header: {}, expected: 401 },
    invalid('revoked home owner api key'),
    invalid('expired home owner token'),
    invalid('unknown bearer token'),
  ];
  if (parsed.kind === 'tenant') {
    const rule = PERMISSIONS[parsed.permission];
    return [
      ...common,
      ...foreignCredentials(),
      ...rolesBelow(rule.minimumRole).map((role) => ({ name: `home ${role} session`, header: credentials[`home ${role} session`]!, expected: 403 })),
      ...(rule.sessionOnly ? [{ name: 'home owner api key', header: credentials['home owner api key']!, expected: 403 }] : []),
      { name: 'founder operator', header: credentials['founder operator']!, expected: 403 },
    ];
  }
  if (parsed.kind === 'operator') {
    return [
      ...common,
      { name: 'home owner session', header: credentials['home owner session']!, expected: 403 },
      { name: 'home owner api key', header: credentials['home owner api key']!, expected: 403 },
      ...operatorRolesBelow(parsed.role).map((role) => ({ name: `${role} operator`, header: credentials[`${role} operator`]!, expected: 403 })),
    ];
  }
  return [];
}

let currentEntry: RouteEntry | undefined;
/** Another tenant's credentials see a home resource as absent (404); on a caller-scoped route they are simply a caller. */
function foreignCredentials(): Credential[] {
  if (currentEntry && actsOnCallersTenant(currentEntry)) return [];
  return [
    { name: 'foreign owner session', header: credentials['foreign owner session']!, expected: 404 },
    { name: 'foreign owner api key', header: credentials['foreign owner api key']!, expected: 404 },
  ];
}

const guardedRoutes = (): RouteEntry[] => routeTable(subject.app).filter((entry) => entry.requirement !== 'public');

const send = (entry: RouteEntry, sample: Sample, header: Record<string, string>) => {
  const method = entry.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete' | 'patch';
  const pending = request(subject.app)[method](sample.path).set(header);
  return sample.body === undefined ? pending : pending.send(sample.body as object);
};

describe('authorization matrix', () => {
  it('has a sample request for every guarded route', () => {
    const missing = guardedRoutes().map((entry) => `${entry.method} ${entry.path}`).filter((key) => !SAMPLES[key]);
    expect(missing).toEqual([]);
  });

  it('refuses every guarded route to every wrong credential, as documented, and nothing changes', async () => {
    const before = await tenantWorld(orm, [home.tenantId, foreign.tenantId]);
    const mismatches: string[] = [];
    let cases = 0;
    for (const entry of guardedRoutes()) {
      const sample = SAMPLES[`${entry.method} ${entry.path}`]!();
      currentEntry = entry;
      for (const credential of refusedCredentials(entry.requirement!)) {
        cases += 1;
        const response = await send(entry, sample, credential.header);
        const problem = /application\/problem\+json/.test(response.headers['content-type'] ?? '');
        if (response.status !== credential.expected || !problem) {
          mismatches.push(`${entry.method} ${entry.path} with ${credential.name}: ${response.status} (expected ${credential.expected}) ${response.body?.title ?? ''}`);
        }
        if (response.status === 401 && !response.headers['www-authenticate']) mismatches.push(`${entry.method} ${entry.path} with ${credential.name}: 401 without WWW-Authenticate`);
      }
    }
    expect(mismatches).toEqual([]);
    expect(cases).toBeGreaterThanOrEqual(40);
    expect(await tenantWorld(orm, [home.tenantId, foreign.tenantId])).toEqual(before);
  });

  it('serves every guarded route to the least credential that should pass (the samples are valid)', async () => {
    const failures: string[] = [];
    for (const entry of guardedRoutes().sort(sessionEndingLast)) {
      const parsed = parseRequirement(entry.requirement!);
      const header =
        parsed.kind === 'operator'
          ? credentials[`${parsed.role} operator`]!
          : parsed.kind === 'tenant'
            ? credentials[`home ${PERMISSIONS[parsed.permission].minimumRole} session`]!
            : {};
      const key = `${entry.method} ${entry.path}`;
      const response = await send(entry, SAMPLES[key]!(lifecycleSubjects[key]), header);
      if (response.status >= 400) failures.push(`${entry.method} ${entry.path}: ${response.status} ${response.body?.title ?? ''}`);
    }
    expect(failures).toEqual([]);
  });
});
