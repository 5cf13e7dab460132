import request from 'supertest';
import type { Orm } from '../../src/db/orm';
import { bearer, buildTestApp, login, OPERATORS, provisionTeam, tenantWorld, type TestApp } from '../support/auth';
import { testOrm, uniqueSlug } from '../support/stack';

let orm: Orm;
beforeAll(async () => {
  orm = await testOrm();
});
afterAll(() => orm.close(true));

async function withApp(env: Record<string, string>, body: (subject: TestApp) => Promise<void>) {
  const subject = await buildTestApp(orm, { env });
  try {
    await body(subject);
  } finally {
    await subject.close();
  }
}

const signupBody = () => ({ email: `owner-${uniqueSlug()}@example.com`, password: 'Strong-Password-42', orgName: `Org ${uniqueSlug('ks')}` });

describe('kill switch DISABLE_SIGNUP', () => {
  it('on: signup answers 503 problem+json naming the switch, and starts nothing', async () => {
    await withApp({ DISABLE_SIGNUP: 'true' }, async ({ app }) => {
      const body = signupBody();
      const response = await request(app).post('/api/v1/signup').send(body);
      expect(response.status).toBe(503);
      expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(response.body).toMatchObject({ gate: 'kill_switch', outcome: 'block', reason: 'signup is disabled' });
      expect(await orm.em.fork().execute('select 1 from app_user where email = ?', [body.email])).toEqual([]);
    });
  });

  it('off: signup is accepted', async () => {
    await withApp({ DISABLE_SIGNUP: 'false', TEMPORAL_TASK_QUEUE: `kill-switch-${uniqueSlug()}` }, async ({ app, client }) => {
      const response = await request(app).post('/api/v1/signup').send(signupBody());
      expect(response.status).toBe(202);
      // No worker polls this queue: end the saga that was only started to prove the switch was open.
      await client.workflow.getHandle(response.body.workflowId).terminate('kill switch test');
    });
  });
});

describe('kill switch READ_ONLY_MODE', () => {
  it('on: every non-GET API call is refused with 503, reads still work, operators still write', async () => {
    const team = await provisionTeam(orm);
    // Signed in before the switch (the apps share the token secret): read-only refuses new logins too.
    let owner!: Awaited<ReturnType<typeof login>>;
    await withApp({}, async ({ app }) => {
      owner = await login(app, team.members.owner.email);
    });
    await withApp({ READ_ONLY_MODE: 'true' }, async ({ app }) => {
      const before = await tenantWorld(orm, [team.tenantId]);
      const writes = [
        request(app).post(`/api/v1/tenants/${team.tenantId}/api-keys`).set(bearer(owner.accessToken)).send({ name: 'k', role: 'viewer' }),
        request(app).post('/api/v1/auth/login').send({ email: team.members.owner.email, password: 'Correct-Horse-Battery-9' }),
        request(app).post('/api/v1/auth/refresh').send({ refreshToken: owner.refreshToken }),
        request(app).post('/api/v1/signup').send(signupBody()),
      ];
      for (const response of await Promise.all(writes)) {
        expect(response.status).toBe(503);
        expect(response.body).toMatchObject({ gate: 'kill_switch', reason: 'the service is in read-only mode' });
      }
      expect(await tenantWorld(orm, [team.tenantId])).toEqual(before);
      expect((await request(app).get(`/api/v1/tenants/${team.tenantId}/api-keys`).set(bearer(owner.accessToken))).status).toBe(200);
      const operatorWrite = await request(app)
        .put(`/api/v1/admin/tenants/${team.tenantId}/billing-state`)
        .set(bearer(OPERATORS.founder.token))
        .send({ subscriptionState: 'active', reason: 'repair during read-only' });
      expect(operatorWrite.status).toBe(200);
    });
  });

  it('off: writes go through', async () => {
    await withApp({ READ_ONLY_MODE: 'false' }, async ({ app }) => {
      const team = await provisionTeam(orm);
      const owner = await login(app, team.members.owner.email);
      expect((await request(app).post(`/api/v1/tenants/${team.tenantId}/api-keys`).set(bearer(owner.accessToken)).send({ name: 'k', role: 'viewer' })).status).toBe(201);
    });
  });
});

describe('kill switch GLOBAL_RATE_LIMIT_PER_MINUTE (the anonymous-only ceiling)', () => {
  it('on: past the ceiling every caller without valid credentials gets 429 with Retry-After; signed-in callers, operators and health checks do not', async () => {
    const team = await provisionTeam(orm);
    await withApp({ GLOBAL_RATE_LIMIT_PER_MINUTE: '3' }, async ({ app }) => {
      // Signed in before the ceiling is spent: signing in is itself a request without credentials.
      const owner = await login(app, team.members.owner.email);
      const statuses = [];
      for (let attempt = 0; attempt < 3; attempt += 1) statuses.push(await request(app).get('/api/v1/signup/provision:nothing-here').then((response) => response));
      expect(statuses.slice(0, 2).every((response) => response.status !== 429)).toBe(true);
      const refused = statuses[2]!;
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(refused.headers['ratelimit-policy']).toBe('"anonymous";q=3;w=60');
      expect(refused.body).toMatchObject({ gate: 'kill_switch', outcome: 'throttle' });
      expect((await request(app).get(`/api/v1/tenants/${team.tenantId}/limits`).set(bearer(owner.accessToken))).status).toBe(200);
      expect((await request(app).get(`/api/v1/admin/tenants/${team.tenantId}/billing-state`).set(bearer(OPERATORS.ops.token))).status).toBe(200);
      expect((await request(app).get('/healthz')).status).toBe(200);
    });
  });

  it('off (0): no ceiling', async () => {
    await withApp({ GLOBAL_RATE_LIMIT_PER_MINUTE: '0' }, async ({ app }) => {
      for (let attempt = 0; attempt < 20; attempt += 1) {
        expect((await request(app).post('/api/v1/auth/logout').send({ refreshToken: 'x' })).status).toBe(204);
      }
    });
  });
});

describe('kill switch DISABLE_RUN_EXECUTION', () => {
  // At submission, through the API; the worker's checks (AUTHORIZED and before every step) are in test/activities.
  const submitRun = async (subject: TestApp, team: Awaited<ReturnType<typeof provisionTeam>>) => {
    const member = await login(subject.app, team.members.member.email);
    return request(subject.app).post('/api/v1/runs').set(bearer(member.accessToken)).send({ steps: [{ kind: 'wait', duration: '1h' }] });
  };

  it('on: run submission is refused by the switch as a 503 problem, and nothing is reserved', async () => {
    const team = await provisionTeam(orm);
    await withApp({ DISABLE_RUN_EXECUTION: 'true' }, async (subject) => {
      const response = await submitRun(subject, team);
      expect(response.status).toBe(503);
      expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(response.body).toMatchObject({ gate: 'kill_switch', outcome: 'block', reason: 'run execution is disabled' });
      expect(await orm.em.fork().execute('select 1 from run where tenant_id = ?', [team.tenantId])).toEqual([]);
    });
  });

  it('off: the same submission is admitted', async () => {
    const team = await provisionTeam(orm);
    await withApp({ DISABLE_RUN_EXECUTION: 'false', TEMPORAL_TASK_QUEUE: `kill-switch-${uniqueSlug()}` }, async (subject) => {
      const response = await submitRun(subject, team);
      expect(response.status).toBe(202);
      // No worker polls this queue: end the run that was only started to prove the switch was open.
      await subject.client.workflow.getHandle(response.body.workflowId).terminate('kill switch test');
    });
  });
});
