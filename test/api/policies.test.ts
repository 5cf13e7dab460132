import request from 'supertest';
import type { Orm } from '../../src/db/orm';
import { readActivePolicy } from '../../src/db/policy-rules';
import { bearer, buildTestApp, login, OPERATORS, provisionTeam, setTenantStatus, tenantWorld, type TestApp, type TestTenant } from '../support/auth';
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

const policies = (tenantId: string) => `/api/v1/tenants/${tenantId}/policies`;
const adminPolicies = (tenantId: string) => `/api/v1/admin/tenants/${tenantId}/policies`;
const founder = bearer(OPERATORS.founder.token);
const ops = bearer(OPERATORS.ops.token);

async function adminOf(team: TestTenant) {
  return bearer((await login(subject.app, team.members.admin.email)).accessToken);
}

const policyAudit = (tenantId: string) =>
  orm.em
    .fork()
    .execute(`select actor, action, entity_id, from_state, to_state, reason, details from audit_event where tenant_id = ? and action like 'policy.%' order by id`, [tenantId]);

describe('tenant policy API', () => {
  it('a tenant admin sets a rule: version 1, audited with the actor, before and after; the same params again change nothing', async () => {
    const team = await provisionTeam(orm);
    const admin = await adminOf(team);
    expect((await request(subject.app).get(policies(team.tenantId)).set(admin)).body).toMatchObject({ tenantId: team.tenantId, rules: [] });

    const created = await request(subject.app).put(`${policies(team.tenantId)}/max_debit_total`).set(admin).send({ params: { limit: 500 }, reason: 'month budget' });
    expect(created.status).toBe(201);
    expect(created.headers.etag).toBe('"1"');
    expect(created.body).toMatchObject({ rule: 'max_debit_total', params: { limit: 500 }, active: true, version: 1, updatedBy: `user:${team.members.admin.userId}`, changed: true });
    expect(await policyAudit(team.tenantId)).toEqual([
      {
        actor: `user:${team.members.admin.userId}`,
        action: 'policy.rule_set',
        entity_id: `${team.tenantId}:max_debit_total`,
        from_state: null,
        to_state: 'active',
        reason: 'month budget',
        details: { rule: 'max_debit_total', before: null, after: { params: { limit: 500 }, active: true, version: 1 } },
      },
    ]);

    const before = await tenantWorld(orm, [team.tenantId]);
    const again = await request(subject.app).put(`${policies(team.tenantId)}/max_debit_total`).set(admin).send({ params: { limit: 500 } });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ version: 1, changed: false });
    expect(await tenantWorld(orm, [team.tenantId])).toEqual(before);

    const viewer = bearer((await login(subject.app, team.members.viewer.email)).accessToken);
    const read = await request(subject.app).get(`${policies(team.tenantId)}/max_debit_total`).set(viewer);
    expect(read.status).toBe(200);
    expect(read.headers.etag).toBe('"1"');
    expect(read.body).toMatchObject({ rule: 'max_debit_total', params: { limit: 500 }, active: true, version: 1 });
  });

  it('If-Match with a stale version is 412 and changes nothing; with the current version the change is the next version', async () => {
    const team = await provisionTeam(orm);
    const admin = await adminOf(team);
    const path = `${policies(team.tenantId)}/max_steps`;
    expect((await request(subject.app).put(path).set(admin).set('If-Match', '*').send({ params: { limit: 5 } })).status).toBe(412);
    await request(subject.app).put(path).set(admin).send({ params: { limit: 5 } }).expect(201);
    await request(subject.app).put(path).set(admin).send({ params: { limit: 4 } }).expect(200);

    const before = await tenantWorld(orm, [team.tenantId]);
    const stale = await request(subject.app).put(path).set(admin).set('If-Match', '"1"').send({ params: { limit: 3 } });
    expect(stale.status).toBe(412);
    expect(stale.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(stale.body).toMatchObject({ title: 'Precondition failed', currentVersion: 2 });
    expect((await request(subject.app).delete(path).set(admin).set('If-Match', 'W/"2"')).status).toBe(412);
    expect(await tenantWorld(orm, [team.tenantId])).toEqual(before);

    const current = await request(subject.app).put(path).set(admin).set('If-Match', '"1", "2"').send({ params: { limit: 3 } });
    expect(current.status).toBe(200);
    expect(current.body).toMatchObject({ params: { limit: 3 }, version: 3, changed: true });
    expect((await policyAudit(team.tenantId)).map((row) => (row.details as { after: { version: number } }).after.version)).toEqual([1, 2, 3]);

    const malformed = await request(subject.app).put(path).set(admin).set('If-Match', '3').send({ params: { limit: 2 } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors).toEqual([{ path: 'if-match', message: 'must be * or a list of entity tags such as "3"' }]);
  });

  it('validates each rule with its own schema: a 400 naming the field, and a rule the kernel does not know has no route', async () => {
    const team = await provisionTeam(orm);
    const admin = await adminOf(team);
    const before = await tenantWorld(orm, [team.tenantId]);
    const cases: Array<[string, unknown, string[]]> = [
      ['forbidden_step_kinds', { params: { kinds: ['records.write', 'shell.exec'] } }, ['params.kinds.1']],
      ['forbidden_step_kinds', { params: { kinds: [] } }, ['params.kinds']],
      ['max_steps', { params: { limit: 21 } }, ['params.limit']],
      ['max_steps', { params: { limit: 2, extra: true } }, ['params.extra']],
      ['require_approval_over_debit', { params: { threshold: 10, timeoutSeconds: 0 } }, ['params.timeoutSeconds']],
      ['max_debit_total', { limit: 5 }, ['params', 'limit']],
    ];
    for (const [rule, body, paths] of cases) {
      const response = await request(subject.app).put(`${policies(team.tenantId)}/${rule}`).set(admin).send(body as object);
      expect({ rule, body, status: response.status, paths: response.body.errors?.map((error: { path: string }) => error.path).sort() }).toEqual({ rule, body, status: 400, paths: [...paths].sort() });
    }
    expect((await request(subject.app).put(`${policies(team.tenantId)}/max_runtime`).set(admin).send({ params: { limit: 1 } })).status).toBe(404);
    expect((await request(subject.app).get(`${policies(team.tenantId)}/max_runtime`).set(admin)).body.errors).toEqual([{ path: 'rule', message: expect.stringContaining('must be one of') }]);
    expect(await tenantWorld(orm, [team.tenantId])).toEqual(before);
  });

  it('DELETE switches a rule off, audited; the fingerprint is the one runs are authorised under', async () => {
    const team = await provisionTeam(orm);
    const admin = await adminOf(team);
    await request(subject.app).put(`${policies(team.tenantId)}/forbidden_step_kinds`).set(admin).send({ params: { kinds: ['records.delete'] } }).expect(201);
    await request(subject.app).put(`${policies(team.tenantId)}/require_approval_over_debit`).set(admin).send({ params: { threshold: 50 } }).expect(201);
    const withBoth = (await request(subject.app).get(policies(team.tenantId)).set(admin)).body;
    expect(withBoth.rules.map((rule: { rule: string; params: unknown }) => [rule.rule, rule.params])).toEqual([
      ['forbidden_step_kinds', { kinds: ['records.delete'] }],
      ['require_approval_over_debit', { threshold: 50, timeoutSeconds: 86_400 }],
    ]);
    expect(withBoth.fingerprint).toBe((await readActivePolicy(orm.em.fork(), team.tenantId)).fingerprint);

    const removed = await request(subject.app).delete(`${policies(team.tenantId)}/forbidden_step_kinds`).set(admin).set('If-Match', '"1"');
    expect(removed.status).toBe(204);
    expect(removed.headers.etag).toBe('"2"');
    const after = (await request(subject.app).get(policies(team.tenantId)).set(admin)).body;
    expect(after.rules.find((rule: { rule: string }) => rule.rule === 'forbidden_step_kinds')).toMatchObject({ active: false, version: 2, params: { kinds: ['records.delete'] } });
    expect(after.fingerprint).not.toBe(withBoth.fingerprint);
    expect(after.fingerprint).toBe((await readActivePolicy(orm.em.fork(), team.tenantId)).fingerprint);
    expect((await readActivePolicy(orm.em.fork(), team.tenantId)).policy).toEqual({ requireApprovalOverDebit: { threshold: 50, timeoutSeconds: 86_400 } });

    const audit = await policyAudit(team.tenantId);
    expect(audit.at(-1)).toMatchObject({
      action: 'policy.rule_removed',
      from_state: 'active',
      to_state: 'inactive',
      details: { rule: 'forbidden_step_kinds', before: { active: true, version: 1 }, after: { active: false, version: 2 } },
    });
    // Already off: nothing more to do or audit; never set: not found.
    expect((await request(subject.app).delete(`${policies(team.tenantId)}/forbidden_step_kinds`).set(admin)).status).toBe(204);
    expect(await policyAudit(team.tenantId)).toHaveLength(audit.length);
    expect((await request(subject.app).delete(`${policies(team.tenantId)}/max_steps`).set(admin)).status).toBe(404);
  });

  it("a tenant's policy is its own: another tenant's admin gets 404 and the rule stays as it was", async () => {
    const home = await provisionTeam(orm);
    const foreign = await provisionTeam(orm);
    await request(subject.app).put(`${policies(home.tenantId)}/max_steps`).set(await adminOf(home)).send({ params: { limit: 3 } }).expect(201);
    const intruder = await adminOf(foreign);
    expect((await request(subject.app).put(`${policies(home.tenantId)}/max_steps`).set(intruder).send({ params: { limit: 20 } })).status).toBe(404);
    expect((await request(subject.app).get(policies(home.tenantId)).set(intruder)).status).toBe(404);
    expect((await readActivePolicy(orm.em.fork(), home.tenantId)).policy).toEqual({ maxSteps: 3 });
    expect((await readActivePolicy(orm.em.fork(), foreign.tenantId)).policy).toEqual({});
  });
});

describe('admin policy API', () => {
  it('ops reads; a founder changes a tenant\u2019s rule with a reason, audited as the operator', async () => {
    const team = await provisionTeam(orm);
    const missingReason = await request(subject.app).put(`${adminPolicies(team.tenantId)}/max_steps`).set(founder).send({ params: { limit: 2 } });
    expect(missingReason.status).toBe(400);
    expect(missingReason.body.errors).toEqual([{ path: 'reason', message: expect.any(String) }]);

    const set = await request(subject.app).put(`${adminPolicies(team.tenantId)}/max_steps`).set(founder).send({ params: { limit: 2 }, reason: 'abuse ticket 7' });
    expect(set.status).toBe(201);
    expect(set.body).toMatchObject({ updatedBy: `operator:${OPERATORS.founder.name}`, version: 1 });
    const read = await request(subject.app).get(adminPolicies(team.tenantId)).set(ops);
    expect(read.body.rules).toEqual([expect.objectContaining({ rule: 'max_steps', params: { limit: 2 }, active: true })]);
    expect((await request(subject.app).delete(`${adminPolicies(team.tenantId)}/max_steps`).set(founder).send({ reason: 'ticket closed' })).status).toBe(204);
    expect((await policyAudit(team.tenantId)).map((row) => [row.actor, row.action, row.reason])).toEqual([
      [`operator:${OPERATORS.founder.name}`, 'policy.rule_set', 'abuse ticket 7'],
      [`operator:${OPERATORS.founder.name}`, 'policy.rule_removed', 'ticket closed'],
    ]);
  });

  it('answers 404 for a tenant that does not exist and 409 for a terminated one, writing nothing', async () => {
    const unknown = '3f1c2a4e-8b7d-4c6e-9a5f-1b2c3d4e5f60';
    expect((await request(subject.app).get(adminPolicies(unknown)).set(ops)).status).toBe(404);
    expect((await request(subject.app).put(`${adminPolicies(unknown)}/max_steps`).set(founder).send({ params: { limit: 2 }, reason: 'x' })).status).toBe(404);
    const team = await provisionTeam(orm);
    await setTenantStatus(orm, team.tenantId, 'terminated');
    const refused = await request(subject.app).put(`${adminPolicies(team.tenantId)}/max_steps`).set(founder).send({ params: { limit: 2 }, reason: 'x' });
    expect(refused.status).toBe(409);
    expect(await orm.em.fork().execute('select 1 from policy_rule where tenant_id = ?', [team.tenantId])).toEqual([]);
  });
});
