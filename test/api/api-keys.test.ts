import request from 'supertest';
import { secretHash } from '../../src/auth/secret-hash';
import type { Orm } from '../../src/db/orm';
import { MAX_ACTIVE_API_KEYS } from '../../src/services/api-key-service';
import { bearer, buildTestApp, createApiKey, login, provisionTeam, tenantWorld, type Session, type TestApp, type TestTenant } from '../support/auth';
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

const keysPath = (tenantId: string) => `/api/v1/tenants/${tenantId}/api-keys`;
const limitsPath = (tenantId: string) => `/api/v1/tenants/${tenantId}/limits`;

async function teamWithOwnerSession(): Promise<{ team: TestTenant; owner: Session }> {
  const team = await provisionTeam(orm);
  return { team, owner: await login(subject.app, team.members.owner.email) };
}

describe('tenant API keys', () => {
  it('show the key once at creation, keep only its SHA-256, and never list it again', async () => {
    const { team, owner } = await teamWithOwnerSession();
    const created = await request(subject.app).post(keysPath(team.tenantId)).set(bearer(owner.accessToken)).send({ name: 'deploy bot', role: 'member' });
    expect(created.status).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    expect(created.headers.location).toBe(`${keysPath(team.tenantId)}/${created.body.id}`);
    expect(created.body).toMatchObject({ name: 'deploy bot', role: 'member', prefix: expect.stringMatching(/^cp_live_[a-z0-9]{8}$/), revokedAt: null });
    const key: string = created.body.key;
    expect(key.startsWith(`${created.body.prefix}_`)).toBe(true);
    // 32 random bytes after the prefix: 256 bits.
    expect(Buffer.from(key.slice(created.body.prefix.length + 1), 'base64url')).toHaveLength(32);

    const rows = await orm.em.fork().execute('select key_hash, row_to_json(api_key)::text as json from api_key where id = ?', [created.body.id]);
    expect(rows[0].key_hash).toBe(secretHash(key));
    expect(rows[0].json).not.toContain(key.slice(created.body.prefix.length + 1));
    const audit = await orm.em.fork().execute(`select details::text as details from audit_event where entity_id = ? and action = 'api_key.created'`, [created.body.id]);
    expect(audit).toHaveLength(1);
    expect(audit[0].details).not.toContain(key.slice(created.body.prefix.length + 1));

    const listed = await request(subject.app).get(keysPath(team.tenantId)).set(bearer(owner.accessToken));
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([expect.objectContaining({ id: created.body.id, prefix: created.body.prefix, role: 'member' })]);
    expect(JSON.stringify(listed.body)).not.toContain(key.slice(created.body.prefix.length + 1));
    expect(listed.body.items[0]).not.toHaveProperty('key');
    expect(listed.body.items[0]).not.toHaveProperty('keyHash');
  });

  it('authenticate as their role in their tenant, and stop the moment they are revoked', async () => {
    const { team, owner } = await teamWithOwnerSession();
    const key = await createApiKey(subject.access, team.tenantId, 'viewer');
    expect((await request(subject.app).get(limitsPath(team.tenantId)).set(bearer(key.key))).status).toBe(200);
    const revoked = await request(subject.app).delete(`${keysPath(team.tenantId)}/${key.id}`).set(bearer(owner.accessToken));
    expect(revoked.status).toBe(204);
    expect((await request(subject.app).get(limitsPath(team.tenantId)).set(bearer(key.key))).status).toBe(401);
    // Revoking again is not an error, and is audited once.
    expect((await request(subject.app).delete(`${keysPath(team.tenantId)}/${key.id}`).set(bearer(owner.accessToken))).status).toBe(204);
    const audit = await orm.em.fork().execute(`select actor from audit_event where entity_id = ? and action = 'api_key.revoked'`, [key.id]);
    expect(audit).toEqual([{ actor: `user:${team.members.owner.userId}` }]);
  });

  it('advance onboarding from provisioned to first_api_key once, with an audit event, and to complete after a first run', async () => {
    const { team, owner } = await teamWithOwnerSession();
    const create = () => request(subject.app).post(keysPath(team.tenantId)).set(bearer(owner.accessToken)).send({ name: 'k', role: 'viewer' });
    expect((await create()).status).toBe(201);
    expect((await create()).status).toBe(201);
    const em = orm.em.fork();
    expect((await em.execute('select onboarding_state from tenant where id = ?', [team.tenantId]))[0].onboarding_state).toBe('first_api_key');
    const advanced = await em.execute(`select from_state, to_state from audit_event where tenant_id = ? and action = 'onboarding.advanced'`, [team.tenantId]);
    expect(advanced).toEqual([{ from_state: 'provisioned', to_state: 'first_api_key' }]);

    // A tenant whose first run came before its first key is done onboarding with the key; nothing moves it back.
    await em.execute(`update tenant set onboarding_state = 'first_run' where id = ?`, [team.tenantId]);
    expect((await create()).status).toBe(201);
    expect((await em.execute('select onboarding_state from tenant where id = ?', [team.tenantId]))[0].onboarding_state).toBe('complete');
    expect((await create()).status).toBe(201);
    expect((await em.execute('select onboarding_state from tenant where id = ?', [team.tenantId]))[0].onboarding_state).toBe('complete');
  });

  it('answer 404 for a key id that belongs to another tenant, and leave that key working (BOLA)', async () => {
    const mine = await teamWithOwnerSession();
    const theirs = await provisionTeam(orm);
    const theirKey = await createApiKey(subject.access, theirs.tenantId, 'admin');
    const before = await tenantWorld(orm, [mine.team.tenantId, theirs.tenantId]);
    const attempt = await request(subject.app).delete(`${keysPath(mine.team.tenantId)}/${theirKey.id}`).set(bearer(mine.owner.accessToken));
    expect(attempt.status).toBe(404);
    expect(await tenantWorld(orm, [mine.team.tenantId, theirs.tenantId])).toEqual(before);
    expect((await request(subject.app).get(limitsPath(theirs.tenantId)).set(bearer(theirKey.key))).status).toBe(200);
  });

  it('refuse an admin of tenant A everything on tenant B with 404, changing nothing (BOLA)', async () => {
    const a = await teamWithOwnerSession();
    const b = await provisionTeam(orm);
    const admin = await login(subject.app, a.team.members.admin.email);
    const adminKey = await createApiKey(subject.access, a.team.tenantId, 'admin');
    const bKey = await createApiKey(subject.access, b.tenantId, 'member');
    const before = await tenantWorld(orm, [a.team.tenantId, b.tenantId]);
    for (const credential of [admin.accessToken, adminKey.key]) {
      const attempts = [
        request(subject.app).post(keysPath(b.tenantId)).set(bearer(credential)).send({ name: 'x', role: 'viewer' }),
        request(subject.app).get(keysPath(b.tenantId)).set(bearer(credential)),
        request(subject.app).delete(`${keysPath(b.tenantId)}/${bKey.id}`).set(bearer(credential)),
        request(subject.app).get(limitsPath(b.tenantId)).set(bearer(credential)),
      ];
      for (const response of await Promise.all(attempts)) {
        expect(response.status).toBe(404);
        expect(response.body.detail).toBe('No such tenant.');
      }
    }
    // The same answer as for a tenant that does not exist at all.
    const ghost = await request(subject.app).get(limitsPath('00000000-0000-4000-8000-000000000000')).set(bearer(admin.accessToken));
    expect({ status: ghost.status, detail: ghost.body.detail }).toEqual({ status: 404, detail: 'No such tenant.' });
    expect(await tenantWorld(orm, [a.team.tenantId, b.tenantId])).toEqual(before);
  });

  it.each([
    ['member', 'owner'],
    ['member', 'admin'],
    ['admin', 'owner'],
  ] as const)('refuse a %s creating a key with the %s role, writing nothing (privilege escalation)', async (caller, wanted) => {
    const { team } = await teamWithOwnerSession();
    const session = await login(subject.app, team.members[caller].email);
    const before = await tenantWorld(orm, [team.tenantId]);
    const response = await request(subject.app).post(keysPath(team.tenantId)).set(bearer(session.accessToken)).send({ name: 'escalate', role: wanted });
    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ title: 'Role not grantable', errors: [{ path: 'role' }] });
    expect(await tenantWorld(orm, [team.tenantId])).toEqual(before);
  });

  it('let each role create keys up to its own role and no further', async () => {
    const { team } = await teamWithOwnerSession();
    for (const [caller, wanted] of [['owner', 'owner'], ['admin', 'admin'], ['member', 'member'], ['member', 'viewer']] as const) {
      const session = await login(subject.app, team.members[caller].email);
      const response = await request(subject.app).post(keysPath(team.tenantId)).set(bearer(session.accessToken)).send({ name: `${caller}-${wanted}`, role: wanted });
      expect({ caller, wanted, status: response.status }).toEqual({ caller, wanted, status: 201 });
    }
  });

  it('cannot be used to manage keys: a leaked key must not mint more keys', async () => {
    const { team } = await teamWithOwnerSession();
    const ownerKey = await createApiKey(subject.access, team.tenantId, 'owner');
    const before = await tenantWorld(orm, [team.tenantId]);
    const response = await request(subject.app).post(keysPath(team.tenantId)).set(bearer(ownerKey.key)).send({ name: 'child', role: 'viewer' });
    expect(response.status).toBe(403);
    expect(response.body.title).toBe('Session required');
    expect((await request(subject.app).get(keysPath(team.tenantId)).set(bearer(ownerKey.key))).status).toBe(403);
    expect(await tenantWorld(orm, [team.tenantId])).toEqual(before);
  });

  it(`stop at ${MAX_ACTIVE_API_KEYS} live keys per tenant with a 409, and allow more once some are revoked`, async () => {
    const { team, owner } = await teamWithOwnerSession();
    const keys = [];
    for (let index = 0; index < MAX_ACTIVE_API_KEYS; index += 1) keys.push(await createApiKey(subject.access, team.tenantId, 'viewer'));
    const create = () => request(subject.app).post(keysPath(team.tenantId)).set(bearer(owner.accessToken)).send({ name: 'one too many', role: 'viewer' });
    expect((await create()).status).toBe(409);
    await request(subject.app).delete(`${keysPath(team.tenantId)}/${keys[0]!.id}`).set(bearer(owner.accessToken));
    expect((await create()).status).toBe(201);
  });

  it('reject an invalid body with 400 listing the fields, and a malformed key id with 400', async () => {
    const { team, owner } = await teamWithOwnerSession();
    const response = await request(subject.app).post(keysPath(team.tenantId)).set(bearer(owner.accessToken)).send({ name: '', role: 'root', extra: 1 });
    expect(response.status).toBe(400);
    expect(response.body.errors.map((error: { path: string }) => error.path).sort()).toEqual(['extra', 'name', 'role']);
    expect((await request(subject.app).delete(`${keysPath(team.tenantId)}/not-a-uuid`).set(bearer(owner.accessToken))).status).toBe(400);
  });
});
