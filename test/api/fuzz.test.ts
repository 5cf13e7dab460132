/**
 * Deterministic fuzzing of the public, tenant and operator routes with inputs their zod schemas refuse (fast-check is
 * not installed; this is a seeded generator instead): no 5xx, every 4xx is problem+json, and nothing is written.
 */
import request from 'supertest';
import type { z } from 'zod';
import { createApiKeyRequestSchema } from '../../src/api/schemas/api-keys';
import { loginRequestSchema, refreshTokenRequestSchema } from '../../src/api/schemas/auth';
import { setBillingStateRequestSchema } from '../../src/api/schemas/billing-state';
import { signupRequestSchema } from '../../src/api/schemas/signup';
import type { Orm } from '../../src/db/orm';
import { bearer, buildTestApp, createApiKey, KNOWN_PASSWORD, login, OPERATORS, provisionTeam, tenantWorld, type TestApp, type TestTenant } from '../support/auth';
import { invalidBodies, oddPathSegments } from '../support/fuzz';
import { testOrm } from '../support/stack';

let orm: Orm;
let subject: TestApp;
let team: TestTenant;
let ownerToken: string;
let keyId: string;

beforeAll(async () => {
  orm = await testOrm();
  subject = await buildTestApp(orm, { env: { LOGIN_FAILURES_PER_IP: '100000', LOGIN_FAILURES_PER_ACCOUNT: '1000' } });
  team = await provisionTeam(orm);
  ownerToken = (await login(subject.app, team.members.owner.email)).accessToken;
  keyId = (await createApiKey(subject.access, team.tenantId, 'viewer')).id;
});
afterAll(async () => {
  await subject.close();
  await orm.close(true);
});

interface FuzzTarget {
  name: string;
  method: 'post' | 'put';
  path: () => string;
  headers: () => Record<string, string>;
  schema: z.ZodType;
  valid: () => Record<string, unknown>;
}

const TARGETS: FuzzTarget[] = [
  { name: 'signup', method: 'post', path: () => '/api/v1/signup', headers: () => ({}), schema: signupRequestSchema, valid: () => ({ email: 'fuzz@example.com', password: 'Strong-Password-42', orgName: 'Fuzz Org' }) },
  { name: 'login', method: 'post', path: () => '/api/v1/auth/login', headers: () => ({}), schema: loginRequestSchema, valid: () => ({ email: team.members.owner.email, password: KNOWN_PASSWORD, tenantId: team.tenantId }) },
  { name: 'refresh', method: 'post', path: () => '/api/v1/auth/refresh', headers: () => ({}), schema: refreshTokenRequestSchema, valid: () => ({ refreshToken: 'cp_rt_x' }) },
  { name: 'logout', method: 'post', path: () => '/api/v1/auth/logout', headers: () => ({}), schema: refreshTokenRequestSchema, valid: () => ({ refreshToken: 'cp_rt_x' }) },
  {
    name: 'create API key',
    method: 'post',
    path: () => `/api/v1/tenants/${team.tenantId}/api-keys`,
    headers: () => bearer(ownerToken),
    schema: createApiKeyRequestSchema,
    valid: () => ({ name: 'fuzz', role: 'viewer' }),
  },
  {
    name: 'set billing state',
    method: 'put',
    path: () => `/api/v1/admin/tenants/${team.tenantId}/billing-state`,
    headers: () => bearer(OPERATORS.founder.token),
    schema: setBillingStateRequestSchema,
    valid: () => ({ subscriptionState: 'active', plan: 'pro', reason: 'fuzz' }),
  },
];

const isProblem = (response: request.Response) =>
  /application\/problem\+json/.test(response.headers['content-type'] ?? '') && typeof response.body?.title === 'string' && response.body?.status === response.status;

describe('fuzzed requests', () => {
  it.each(TARGETS.map((target, index) => [target.name, target, index] as const))('%s: every invalid body is a 4xx problem and writes nothing', async (_name, target, index) => {
    const bodies = invalidBodies(target.schema, target.valid(), { seed: 1000 + index, count: 60 });
    expect(bodies.length).toBeGreaterThan(30);
    const before = await tenantWorld(orm, [team.tenantId]);
    const wrong: string[] = [];
    for (const body of bodies) {
      const response = await request(subject.app)[target.method](target.path()).set(target.headers()).set('Content-Type', 'application/json').send(JSON.stringify(body));
      if (response.status < 400 || response.status >= 500 || !isProblem(response)) wrong.push(`${response.status} for ${JSON.stringify(body).slice(0, 120)}`);
    }
    expect(wrong).toEqual([]);
    expect(await tenantWorld(orm, [team.tenantId])).toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('malformed JSON, wrong media types and oversized bodies are 4xx problems', async () => {
    const raw = [
      { type: 'application/json', body: '{"email": ' },
      { type: 'application/json', body: '\u0000' },
      { type: 'text/plain', body: 'email=a' },
      { type: 'application/x-www-form-urlencoded', body: 'email=a&password=b' },
      { type: 'application/json', body: JSON.stringify({ pad: 'x'.repeat(20_000) }) },
    ];
    for (const target of TARGETS) {
      for (const { type, body } of raw) {
        const response = await request(subject.app)[target.method](target.path()).set(target.headers()).set('Content-Type', type).send(body);
        expect({ target: target.name, type, status: response.status >= 400 && response.status < 500, problem: isProblem(response) }).toEqual({ target: target.name, type, status: true, problem: true });
      }
    }
  });

  it('odd path segments in tenant and operator routes are 4xx problems, never a 5xx', async () => {
    const before = await tenantWorld(orm, [team.tenantId]);
    const wrong: string[] = [];
    for (const segment of oddPathSegments(7, 40)) {
      const attempts = [
        request(subject.app).get(`/api/v1/tenants/${segment}/limits`).set(bearer(ownerToken)),
        request(subject.app).get(`/api/v1/tenants/${segment}/api-keys`).set(bearer(ownerToken)),
        request(subject.app).delete(`/api/v1/tenants/${team.tenantId}/api-keys/${segment}`).set(bearer(ownerToken)),
        request(subject.app).get(`/api/v1/admin/tenants/${segment}/billing-state`).set(bearer(OPERATORS.ops.token)),
        request(subject.app).get(`/api/v1/signup/${segment}`),
      ];
      for (const response of await Promise.all(attempts)) {
        if (response.status < 400 || response.status >= 500 || !isProblem(response)) wrong.push(`${response.status} ${segment.slice(0, 120)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(await tenantWorld(orm, [team.tenantId])).toEqual(before);
    // The key used as a target above is untouched, not revoked by a lucky id.
    expect((await orm.em.fork().execute('select revoked_at from api_key where id = ?', [keyId]))[0].revoked_at).toBeNull();
  });

  it('odd Authorization headers are 401 problems', async () => {
    const headers = ['Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', `Bearer ${'a'.repeat(9000)}`, 'Bearer a.b.c', 'Bearer cp_live_', 'Bearer cp_live_xxxxxxxx_short', 'bearer  two  spaces', 'Bearer \u00ff', 'Bearer eyJhbGciOiJub25lIn0.e30.'];
    for (const header of headers) {
      const response = await request(subject.app).get(`/api/v1/tenants/${team.tenantId}/limits`).set('Authorization', header);
      expect({ header: header.slice(0, 40), status: response.status, problem: isProblem(response) }).toEqual({ header: header.slice(0, 40), status: 401, problem: true });
    }
  });
});
