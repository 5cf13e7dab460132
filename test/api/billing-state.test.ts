import request from 'supertest';
import type { Orm } from '../../src/db/orm';
import { bearer, buildTestApp, login, OPERATORS, provisionTeam, tenantWorld, type TestApp } from '../support/auth';
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

const path = (tenantId: string) => `/api/v1/admin/tenants/${tenantId}/billing-state`;
const founder = bearer(OPERATORS.founder.token);
const ops = bearer(OPERATORS.ops.token);

describe('admin billing state', () => {
  it('shows an operator the plan, subscription state, trial end and derived limits', async () => {
    const team = await provisionTeam(orm);
    const response = await request(subject.app).get(path(team.tenantId)).set(ops);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      tenantId: team.tenantId,
      plan: 'trial',
      subscriptionState: 'trial',
      trialEndsAt: expect.any(String),
      limits: { runsPerDay: 100, concurrentRuns: 2, stepsPerRun: 5, seats: 3, requestsPerMinute: 300, invitationsPerDay: 10 },
    });
  });

  it('lets a founder change it, audited with actor, from, to and reason, and the tenant sees the new limits at once', async () => {
    const team = await provisionTeam(orm);
    const owner = await login(subject.app, team.members.owner.email);
    // Warm the billing cache first, so the change must invalidate it.
    expect((await request(subject.app).get(`/api/v1/tenants/${team.tenantId}/limits`).set(bearer(owner.accessToken))).body.subscriptionState).toBe('trial');

    const response = await request(subject.app).put(path(team.tenantId)).set(founder).send({ subscriptionState: 'active', plan: 'pro', reason: 'paid by invoice 42' });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ plan: 'pro', subscriptionState: 'active', changed: true, limits: { runsPerDay: 10_000 } });
    const audit = await orm.em.fork().execute(`select actor, from_state, to_state, reason, details from audit_event where tenant_id = ? and action = 'billing.state_set'`, [team.tenantId]);
    expect(audit).toEqual([{ actor: 'operator:ada', from_state: 'trial', to_state: 'active', reason: 'paid by invoice 42', details: { fromPlan: 'trial', toPlan: 'pro' } }]);

    // Read afresh from the store: by the request budget before the route (so the route answers from that read), or
    // by the route itself. A cache the change had not invalidated would still say trial for a minute.
    const limits = await request(subject.app).get(`/api/v1/tenants/${team.tenantId}/limits`).set(bearer(owner.accessToken));
    expect(limits.body).toMatchObject({ plan: 'pro', subscriptionState: 'active', limits: { runsPerDay: 10_000, requestsPerMinute: 6_000 } });
    // The request budget follows the plan at once too (the suite scales every plan a thousandfold: testConfig).
    expect(Number(limits.headers['ratelimit-policy']?.match(/"tenant";q=(\d+)/)?.[1])).toBe(6_000 * 1_000);
  });

  it('writes no audit event for a PUT that changes nothing', async () => {
    const team = await provisionTeam(orm);
    const before = await tenantWorld(orm, [team.tenantId]);
    const response = await request(subject.app).put(path(team.tenantId)).set(founder).send({ subscriptionState: 'trial', reason: 'no-op' });
    expect(response.body.changed).toBe(false);
    expect(await tenantWorld(orm, [team.tenantId])).toEqual(before);
  });

  it('validates against the enums and refuses unknown fields with 400, changing nothing', async () => {
    const team = await provisionTeam(orm);
    const before = await tenantWorld(orm, [team.tenantId]);
    const bodies = [
      { subscriptionState: 'free', reason: 'x' },
      { subscriptionState: 'active', plan: 'gold', reason: 'x' },
      { subscriptionState: 'active' },
      { subscriptionState: 'active', reason: '   ' },
      { subscriptionState: 'active', reason: 'x', trialEndsAt: '2030-01-01' },
    ];
    for (const body of bodies) {
      const response = await request(subject.app).put(path(team.tenantId)).set(founder).send(body);
      expect(response.status).toBe(400);
      expect(response.body.errors.length).toBeGreaterThan(0);
    }
    expect((await request(subject.app).put(path('not-a-uuid')).set(founder).send({ subscriptionState: 'active', reason: 'x' })).status).toBe(400);
    expect(await tenantWorld(orm, [team.tenantId])).toEqual(before);
  });

  it('answers 404 for a tenant without a billing account', async () => {
    const missing = '00000000-0000-4000-8000-00000000abcd';
    expect((await request(subject.app).get(path(missing)).set(ops)).status).toBe(404);
    expect((await request(subject.app).put(path(missing)).set(founder).send({ subscriptionState: 'active', reason: 'x' })).status).toBe(404);
  });

  it('keeps ops to reading: changing billing needs a founder', async () => {
    const team = await provisionTeam(orm);
    const response = await request(subject.app).put(path(team.tenantId)).set(ops).send({ subscriptionState: 'active', reason: 'x' });
    expect(response.status).toBe(403);
  });
});
