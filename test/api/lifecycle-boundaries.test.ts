import request from 'supertest';
import type { Orm } from '../../src/db/orm';
import { TENANT_STATUSES, type TenantStatus } from '../../src/domain/tenant-status';
import { bearer, buildTestApp, createApiKey, login, provisionTeam, setTenantStatus, tenantWorld, type TestApp } from '../support/auth';
import { testOrm } from '../support/stack';

let orm: Orm;
let subject: TestApp;

beforeAll(async () => {
  orm = await testOrm();
  subject = await buildTestApp(orm);
});
afterAll(async () => {
  await subject.close();
  await orm.close(true);
});

const REFRESH_ALLOWED: Record<TenantStatus, boolean> = { provisioning: false, active: true, suspended: false, pending_deletion: false, terminated: false };
const KEY_WRITES_ALLOWED: Record<TenantStatus, boolean> = { provisioning: false, active: true, suspended: false, pending_deletion: false, terminated: false };

const expectLifecycleProblem = (response: request.Response, status: TenantStatus) => {
  expect(response.status).toBe(403);
  expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
  expect(response.body).toMatchObject({ gate: 'lifecycle', outcome: 'block', reason: expect.stringContaining(`tenant is ${status}`) });
};

describe('lifecycle gate at the API boundaries', () => {
  it.each(TENANT_STATUSES)('token refresh in a %s tenant follows the policy table, and a refusal spends nothing', async (status) => {
    const team = await provisionTeam(orm);
    const session = await login(subject.app, team.members.owner.email);
    await setTenantStatus(orm, team.tenantId, status);
    const before = await tenantWorld(orm, [team.tenantId]);
    const response = await request(subject.app).post('/api/v1/auth/refresh').send({ refreshToken: session.refreshToken });
    if (REFRESH_ALLOWED[status]) {
      expect(response.status).toBe(200);
      return;
    }
    expectLifecycleProblem(response, status);
    expect(await tenantWorld(orm, [team.tenantId])).toEqual(before);
    // Not spent: once the tenant is active again the same token refreshes.
    await setTenantStatus(orm, team.tenantId, 'active');
    expect((await request(subject.app).post('/api/v1/auth/refresh').send({ refreshToken: session.refreshToken })).status).toBe(200);
  });

  it.each(TENANT_STATUSES)('API key creation by the owner of a %s tenant follows the policy table', async (status) => {
    const team = await provisionTeam(orm);
    const session = await login(subject.app, team.members.owner.email);
    await setTenantStatus(orm, team.tenantId, status);
    const before = await tenantWorld(orm, [team.tenantId]);
    const response = await request(subject.app).post(`/api/v1/tenants/${team.tenantId}/api-keys`).set(bearer(session.accessToken)).send({ name: 'k', role: 'viewer' });
    if (KEY_WRITES_ALLOWED[status]) {
      expect(response.status).toBe(201);
      return;
    }
    expectLifecycleProblem(response, status);
    expect(await tenantWorld(orm, [team.tenantId])).toEqual(before);
  });

  it('serves a suspended tenant’s owners and admins (read, revoke) and refuses its members and viewers with 403 naming the state', async () => {
    const team = await provisionTeam(orm);
    const sessions = Object.fromEntries(await Promise.all(Object.values(team.members).map(async (member) => [member.role, await login(subject.app, member.email)] as const)));
    const key = await createApiKey(subject.access, team.tenantId, 'member');
    await setTenantStatus(orm, team.tenantId, 'suspended');

    for (const role of ['member', 'viewer'] as const) {
      expectLifecycleProblem(await request(subject.app).get(`/api/v1/tenants/${team.tenantId}/limits`).set(bearer(sessions[role]!.accessToken)), 'suspended');
    }
    expectLifecycleProblem(await request(subject.app).get(`/api/v1/tenants/${team.tenantId}/limits`).set(bearer(key.key)), 'suspended');
    for (const role of ['owner', 'admin'] as const) {
      expect((await request(subject.app).get(`/api/v1/tenants/${team.tenantId}/api-keys`).set(bearer(sessions[role]!.accessToken))).status).toBe(200);
    }
    // Revoking is allowed while writes are not: a suspended tenant can still kill a leaked key.
    expect((await request(subject.app).delete(`/api/v1/tenants/${team.tenantId}/api-keys/${key.id}`).set(bearer(sessions.admin!.accessToken))).status).toBe(204);
  });

  it('refuses a suspended tenant’s member at login with the state, after checking the password', async () => {
    const team = await provisionTeam(orm);
    await setTenantStatus(orm, team.tenantId, 'suspended');
    const member = await request(subject.app).post('/api/v1/auth/login').send({ email: team.members.member.email, password: 'Correct-Horse-Battery-9' });
    expectLifecycleProblem(member, 'suspended');
    const wrongPassword = await request(subject.app).post('/api/v1/auth/login').send({ email: team.members.member.email, password: 'Not-The-Password-1' });
    expect(wrongPassword.status).toBe(401);
    expect((await request(subject.app).post('/api/v1/auth/login').send({ email: team.members.admin.email, password: 'Correct-Horse-Battery-9' })).status).toBe(200);
  });

  it('counts each decision in gate_decisions_total by gate, outcome and boundary, with no tenant id in the labels', async () => {
    const team = await provisionTeam(orm);
    const session = await login(subject.app, team.members.owner.email);
    await setTenantStatus(orm, team.tenantId, 'suspended');
    await request(subject.app).post('/api/v1/auth/refresh').send({ refreshToken: session.refreshToken });
    const exposition = (await request(subject.app).get('/metrics')).text;
    expect(exposition).toMatch(/gate_decisions_total\{gate="lifecycle",outcome="block",boundary="token_refresh"\} [1-9]/);
    expect(exposition).not.toContain(team.tenantId);
  });
});
