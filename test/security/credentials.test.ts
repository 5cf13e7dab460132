/**
 * Issue 21, items 2 and 3, tried as an attacker would: over real HTTP against the stack `npm start` runs, with mail
 * read from Mailpit. Every credential dies with its owner's standing, and every session ends when trust changes. Each
 * case asserts the refusal, and that the refused request wrote nothing (and sent nothing).
 */
import { randomUUID } from 'node:crypto';
import type { Orm } from '../../src/db/orm';
import { KNOWN_PASSWORD, OPERATORS, provisionTeam, type TestTenant } from '../support/auth';
import { linkToken, mailsTo, waitForMails } from '../support/mailpit';
import { startSecurityStack, type SecurityStack } from '../support/security-stack';
import { waitFor } from '../support/wait';

let stack: SecurityStack;
let orm: Orm;

beforeAll(async () => {
  stack = await startSecurityStack();
  orm = stack.orm;
});
afterAll(async () => {
  await stack.stop();
});

const NEW_PASSWORD = 'Another-Long-Passphrase-42';
/** Each test speaks from addresses of its own, so no login or link limit of another test is shared. */
const client = () => `198.51.100.${Math.floor(Math.random() * 250) + 1}`;

interface Session {
  accessToken: string;
  refreshToken: string;
}

async function signIn(email: string, password = KNOWN_PASSWORD, tenantId?: string): Promise<Session> {
  const answer = await stack.call('POST', '/api/v1/auth/login', { body: { email, password, ...(tenantId ? { tenantId } : {}) }, from: client() });
  if (answer.status !== 200) throw new Error(`login of ${email} answered ${answer.status}: ${answer.text}`);
  return { accessToken: answer.body.accessToken, refreshToken: answer.body.refreshToken };
}

/** A team on a paying plan, so invitations have seats. */
async function payingTeam(): Promise<TestTenant> {
  const team = await provisionTeam(orm);
  await orm.em.fork().execute(`update billing_account set plan = 'pro', subscription_state = 'active' where tenant_id = ?`, [team.tenantId]);
  return team;
}

const tenantRead = (tenantId: string, token: string) => stack.call('GET', `/api/v1/tenants/${tenantId}/limits`, { token, from: client() });
const membersRead = (tenantId: string, token: string) => stack.call('GET', `/api/v1/tenants/${tenantId}/members`, { token, from: client() });
const refresh = (refreshToken: string) => stack.call('POST', '/api/v1/auth/refresh', { body: { refreshToken }, from: client() });

async function createKey(tenantId: string, token: string, role: string, extra: Record<string, unknown> = {}): Promise<{ id: string; key: string }> {
  const answer = await stack.call('POST', `/api/v1/tenants/${tenantId}/api-keys`, { token, body: { name: `${role} key`, role, ...extra }, from: client() });
  if (answer.status !== 201) throw new Error(`key creation answered ${answer.status}: ${answer.text}`);
  return { id: answer.body.id, key: answer.body.key };
}

/** What a refused request could have written for a tenant: memberships (with their session generation), keys, sessions, invitations, the audit trail. */
async function credentialWorld(tenantIds: string[]) {
  const em = orm.em.fork();
  const rows = (sql: string) => em.execute(sql, [tenantIds]);
  return {
    memberships: await rows('select user_id, role, session_generation from tenant_membership where tenant_id in (?) order by user_id'),
    apiKeys: await rows('select id, role, revoked_at, created_by_user_id, expires_at from api_key where tenant_id in (?) order by id'),
    refreshTokens: await rows('select id, revoked_at, revoked_reason from refresh_token where tenant_id in (?) order by id'),
    invitations: await rows('select id, status from invitation where tenant_id in (?) order by id'),
    users: Number((await em.execute('select count(*) from app_user'))[0]?.count ?? 0),
    auditEvents: Number((await rows('select count(*) from audit_event where tenant_id in (?)'))[0]?.count ?? 0),
  };
}

async function auditRows(tenantId: string, action: string) {
  return orm.em.fork().execute<Array<{ entity_id: string; reason: string | null; details: Record<string, unknown> | null }>>(
    'select entity_id, reason, details from audit_event where tenant_id = ? and action = ? order by at, id',
    [tenantId, action],
  );
}

const expectUnauthorized = (answer: { status: number; headers: Headers }) => {
  expect(answer.status).toBe(401);
  expect(answer.headers.get('content-type')).toMatch(/application\/problem\+json/);
};

describe('sessions end when trust changes', () => {
  it('a password reset ends the access and refresh tokens issued before it, in every tenant of the person, at once', async () => {
    const team = await payingTeam();
    const other = await provisionTeam(orm);
    // The member also belongs to a second tenant: a thief's session there ends too.
    await orm.em.fork().execute(`insert into tenant_membership (id, tenant_id, user_id, role, created_at) values (?, ?, ?, 'viewer', now())`, [randomUUID(), other.tenantId, team.members.member.userId]);
    const stolen = await signIn(team.members.member.email, KNOWN_PASSWORD, team.tenantId);
    const stolenElsewhere = await signIn(team.members.member.email, KNOWN_PASSWORD, other.tenantId);
    expect((await tenantRead(team.tenantId, stolen.accessToken)).status).toBe(200);

    const from = client();
    expect((await stack.call('POST', '/api/v1/auth/password-reset', { body: { email: team.members.member.email }, from })).status).toBe(202);
    const token = linkToken((await waitForMails(team.members.member.email, 1))[0]!, 'reset-password');
    expect((await stack.call('POST', '/api/v1/auth/password-reset/complete', { body: { token, password: NEW_PASSWORD }, from })).status).toBe(204);

    const before = await credentialWorld([team.tenantId, other.tenantId]);
    expectUnauthorized(await tenantRead(team.tenantId, stolen.accessToken));
    expectUnauthorized(await tenantRead(other.tenantId, stolenElsewhere.accessToken));
    expectUnauthorized(await refresh(stolen.refreshToken));
    expectUnauthorized(await refresh(stolenElsewhere.refreshToken));
    expect(await credentialWorld([team.tenantId, other.tenantId])).toEqual(before);
    // The owner of the account signs in with the new password and is served.
    expect((await tenantRead(team.tenantId, (await signIn(team.members.member.email, NEW_PASSWORD, team.tenantId)).accessToken)).status).toBe(200);
  });

  it('logout of this device ends that device’s access token too, and no other device’s', async () => {
    const team = await provisionTeam(orm);
    const laptop = await signIn(team.members.admin.email);
    const phone = await signIn(team.members.admin.email);
    expect((await stack.call('POST', '/api/v1/auth/logout', { body: { refreshToken: laptop.refreshToken }, from: client() })).status).toBe(204);

    const before = await credentialWorld([team.tenantId]);
    expectUnauthorized(await tenantRead(team.tenantId, laptop.accessToken));
    expectUnauthorized(await refresh(laptop.refreshToken));
    expect(await credentialWorld([team.tenantId])).toEqual(before);
    expect((await tenantRead(team.tenantId, phone.accessToken)).status).toBe(200);
  });

  it('logout everywhere ends every device of the person in the tenant, and no one else’s', async () => {
    const team = await provisionTeam(orm);
    const laptop = await signIn(team.members.viewer.email);
    const phone = await signIn(team.members.viewer.email);
    const colleague = await signIn(team.members.member.email);
    expect((await stack.call('POST', '/api/v1/auth/logout-everywhere', { token: phone.accessToken, from: client() })).status).toBe(204);

    const before = await credentialWorld([team.tenantId]);
    for (const device of [laptop, phone]) {
      expectUnauthorized(await tenantRead(team.tenantId, device.accessToken));
      expectUnauthorized(await refresh(device.refreshToken));
    }
    // A second call with the ended token is refused before it could end anything again.
    expectUnauthorized(await stack.call('POST', '/api/v1/auth/logout-everywhere', { token: laptop.accessToken, from: client() }));
    expect(await credentialWorld([team.tenantId])).toEqual(before);
    expect((await tenantRead(team.tenantId, colleague.accessToken)).status).toBe(200);
    expect(await auditRows(team.tenantId, 'auth.logout_everywhere')).toHaveLength(1);
  });

  it('suspension ends every session of the tenant and blocks its keys; owners may sign in again to read, keys return with the tenant', async () => {
    const team = await provisionTeam(orm);
    const sessions = { owner: await signIn(team.members.owner.email), admin: await signIn(team.members.admin.email), member: await signIn(team.members.member.email) };
    const key = await createKey(team.tenantId, sessions.owner.accessToken, 'admin');
    const suspended = await stack.call('POST', `/api/v1/admin/tenants/${team.tenantId}/suspend`, { token: OPERATORS.ops.token, body: { reason: 'security drill' }, from: client() });
    expect(suspended.status).toBe(200);

    const before = await credentialWorld([team.tenantId]);
    for (const session of Object.values(sessions)) {
      expectUnauthorized(await tenantRead(team.tenantId, session.accessToken));
      expectUnauthorized(await refresh(session.refreshToken));
    }
    const blocked = await membersRead(team.tenantId, key.key);
    expect(blocked.status).toBe(403);
    expect(blocked.body).toMatchObject({ gate: 'lifecycle', reason: expect.stringContaining('API keys are blocked') });
    expect(await credentialWorld([team.tenantId])).toEqual(before);

    // The documented suspended-tenant access: an owner signs in again to read (export, pay, revoke).
    expect((await membersRead(team.tenantId, (await signIn(team.members.owner.email)).accessToken)).status).toBe(200);
    expect((await stack.call('POST', `/api/v1/admin/tenants/${team.tenantId}/unsuspend`, { token: OPERATORS.ops.token, body: { reason: 'drill over' }, from: client() })).status).toBe(200);
    expect((await membersRead(team.tenantId, key.key)).status).toBe(200);
    expectUnauthorized(await tenantRead(team.tenantId, sessions.member.accessToken));
  });

  it('termination revokes every key of the tenant at once', async () => {
    const team = await provisionTeam(orm);
    const owner = await signIn(team.members.owner.email);
    const keys = [await createKey(team.tenantId, owner.accessToken, 'admin'), await createKey(team.tenantId, owner.accessToken, 'viewer')];
    expect((await stack.call('POST', `/api/v1/admin/tenants/${team.tenantId}/terminate`, { token: OPERATORS.founder.token, body: { reason: 'security drill' }, from: client() })).status).toBe(202);
    // Revoked in the transaction that locks the tenant for deletion, before offboarding starts (whose purge later
    // deletes the rows; the audit trail stays).
    await waitFor(async () => (await auditRows(team.tenantId, 'tenant.credentials_ended')).length > 0);
    const [ended] = await auditRows(team.tenantId, 'tenant.credentials_ended');
    expect(ended!.details).toMatchObject({ apiKeysRevoked: 2, refreshTokensRevoked: 1 });
    for (const key of keys) expectUnauthorized(await membersRead(team.tenantId, key.key));
    expectUnauthorized(await tenantRead(team.tenantId, owner.accessToken));
  });
});

describe('every credential dies with its owner’s standing', () => {
  it('a removed admin’s key and session answer 401, and their invitation can no longer be accepted: no member appears, no mail is sent', async () => {
    const team = await payingTeam();
    const owner = await signIn(team.members.owner.email);
    const admin = await signIn(team.members.admin.email);
    const key = await createKey(team.tenantId, admin.accessToken, 'admin');
    const friend = `friend-${randomUUID()}@example.com`;
    const invited = await stack.call('POST', `/api/v1/tenants/${team.tenantId}/invitations`, { token: admin.accessToken, body: { email: friend, role: 'admin' }, from: client() });
    expect(invited.status).toBe(201);
    const invitationToken = linkToken((await waitForMails(friend, 1))[0]!, 'accept-invitation');
    expect((await membersRead(team.tenantId, key.key)).status).toBe(200);

    expect((await stack.call('DELETE', `/api/v1/tenants/${team.tenantId}/members/${team.members.admin.userId}`, { token: owner.accessToken, from: client() })).status).toBe(204);

    const before = await credentialWorld([team.tenantId]);
    expectUnauthorized(await membersRead(team.tenantId, key.key));
    expectUnauthorized(await membersRead(team.tenantId, admin.accessToken));
    expectUnauthorized(await refresh(admin.refreshToken));
    const accepted = await stack.call('POST', '/api/v1/invitations/accept', { body: { token: invitationToken, password: NEW_PASSWORD }, from: client() });
    expect(accepted.status).toBe(410);
    expect(await credentialWorld([team.tenantId])).toEqual(before);
    expect(await orm.em.fork().execute('select 1 from app_user where email = ?', [friend])).toHaveLength(0);
    expect(await mailsTo(friend)).toHaveLength(1);

    // Each revocation is audited with its reason; the key list shows the key revoked, with its creator.
    expect(await auditRows(team.tenantId, 'api_key.revoked')).toEqual([expect.objectContaining({ entity_id: key.id, reason: expect.stringContaining('creator was removed') })]);
    expect(await auditRows(team.tenantId, 'invitation.revoked')).toEqual([expect.objectContaining({ entity_id: invited.body.id, reason: expect.stringContaining('creator was removed') })]);
    const listed = await stack.call('GET', `/api/v1/tenants/${team.tenantId}/api-keys`, { token: owner.accessToken, from: client() });
    expect(listed.body.items).toContainEqual(expect.objectContaining({ id: key.id, role: 'admin', creator: { userId: team.members.admin.userId, email: team.members.admin.email }, revokedAt: expect.any(String) }));
  });

  it('an invitation whose sender lost their standing by any path cannot be accepted, and nobody joins', async () => {
    const team = await payingTeam();
    const admin = await signIn(team.members.admin.email);
    const friend = `friend-${randomUUID()}@example.com`;
    expect((await stack.call('POST', `/api/v1/tenants/${team.tenantId}/invitations`, { token: admin.accessToken, body: { email: friend, role: 'admin' }, from: client() })).status).toBe(201);
    const invitationToken = linkToken((await waitForMails(friend, 1))[0]!, 'accept-invitation');
    // A demotion that bypassed the team service (an operator's hand in the database): the invitation is still pending.
    await orm.em.fork().execute(`update tenant_membership set role = 'member' where tenant_id = ? and user_id = ?`, [team.tenantId, team.members.admin.userId]);

    const before = await credentialWorld([team.tenantId]);
    expect((await stack.call('POST', '/api/v1/invitations/accept', { body: { token: invitationToken, password: NEW_PASSWORD }, from: client() })).status).toBe(410);
    expect(await credentialWorld([team.tenantId])).toEqual(before);
    expect(await orm.em.fork().execute('select 1 from app_user where email = ?', [friend])).toHaveLength(0);
  });

  it('a member demoted below their key’s role loses that key and their session; their keys within the new role live on', async () => {
    const team = await payingTeam();
    const owner = await signIn(team.members.owner.email);
    const admin = await signIn(team.members.admin.email);
    const adminKey = await createKey(team.tenantId, admin.accessToken, 'admin');
    const viewerKey = await createKey(team.tenantId, admin.accessToken, 'viewer');
    expect((await stack.call('PATCH', `/api/v1/tenants/${team.tenantId}/members/${team.members.admin.userId}`, { token: owner.accessToken, body: { role: 'member' }, from: client() })).status).toBe(200);

    const before = await credentialWorld([team.tenantId]);
    expectUnauthorized(await tenantRead(team.tenantId, adminKey.key));
    expectUnauthorized(await tenantRead(team.tenantId, admin.accessToken));
    expectUnauthorized(await refresh(admin.refreshToken));
    expect(await credentialWorld([team.tenantId])).toEqual(before);
    expect((await tenantRead(team.tenantId, viewerKey.key)).status).toBe(200);
    expect(await auditRows(team.tenantId, 'api_key.revoked')).toEqual([expect.objectContaining({ entity_id: adminKey.id, reason: expect.stringContaining('demoted to member') })]);
  });

  it('a key whose creator lost their standing by any path is refused, even unrevoked', async () => {
    const team = await provisionTeam(orm);
    const admin = await signIn(team.members.admin.email);
    const key = await createKey(team.tenantId, admin.accessToken, 'admin');
    await orm.em.fork().execute(`update tenant_membership set role = 'viewer' where tenant_id = ? and user_id = ?`, [team.tenantId, team.members.admin.userId]);
    const before = await credentialWorld([team.tenantId]);
    expectUnauthorized(await tenantRead(team.tenantId, key.key));
    expect(await credentialWorld([team.tenantId])).toEqual(before);
  });

  it('an expired key answers 401, and a key cannot be made already expired', async () => {
    const team = await provisionTeam(orm);
    const owner = await signIn(team.members.owner.email);
    const key = await createKey(team.tenantId, owner.accessToken, 'viewer', { expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    expect((await tenantRead(team.tenantId, key.key)).status).toBe(200);
    // Time passes for the key (set in Postgres: no test waits an hour).
    await orm.em.fork().execute(`update api_key set expires_at = now() - interval '1 second' where id = ?`, [key.id]);

    const before = await credentialWorld([team.tenantId]);
    expectUnauthorized(await tenantRead(team.tenantId, key.key));
    const stillborn = await stack.call('POST', `/api/v1/tenants/${team.tenantId}/api-keys`, { token: owner.accessToken, body: { name: 'late', role: 'viewer', expiresAt: new Date(Date.now() - 1000).toISOString() }, from: client() });
    expect(stillborn.status).toBe(400);
    expect(stillborn.body.errors).toEqual([{ path: 'expiresAt', message: 'must be in the future' }]);
    expect(await credentialWorld([team.tenantId])).toEqual(before);
  });

  it('a key survives its creator only when an owner moves it to a member of at least its role', async () => {
    const team = await provisionTeam(orm);
    const owner = await signIn(team.members.owner.email);
    const admin = await signIn(team.members.admin.email);
    const key = await createKey(team.tenantId, admin.accessToken, 'admin');
    const path = `/api/v1/tenants/${team.tenantId}/api-keys/${key.id}/owner`;

    const before = await credentialWorld([team.tenantId]);
    // Not to someone below the key's role, and not by the creator themselves (owners only).
    expect((await stack.call('PUT', path, { token: owner.accessToken, body: { userId: team.members.member.userId }, from: client() })).status).toBe(409);
    expect((await stack.call('PUT', path, { token: admin.accessToken, body: { userId: team.members.admin.userId }, from: client() })).status).toBe(403);
    expect(await credentialWorld([team.tenantId])).toEqual(before);

    const moved = await stack.call('PUT', path, { token: owner.accessToken, body: { userId: team.members.owner.userId }, from: client() });
    expect(moved.status).toBe(200);
    expect(moved.body.creator).toEqual({ userId: team.members.owner.userId, email: team.members.owner.email });
    expect((await stack.call('DELETE', `/api/v1/tenants/${team.tenantId}/members/${team.members.admin.userId}`, { token: owner.accessToken, from: client() })).status).toBe(204);
    expect((await membersRead(team.tenantId, key.key)).status).toBe(200);
    expect(await auditRows(team.tenantId, 'api_key.reowned')).toHaveLength(1);
  });

  it('records a key’s last use without a write per request', async () => {
    const team = await provisionTeam(orm);
    const owner = await signIn(team.members.owner.email);
    const key = await createKey(team.tenantId, owner.accessToken, 'viewer');
    for (let call = 0; call < 5; call += 1) expect((await tenantRead(team.tenantId, key.key)).status).toBe(200);
    let lastUsed: string | null = null;
    await waitFor(async () => {
      const listed = await stack.call('GET', `/api/v1/tenants/${team.tenantId}/api-keys`, { token: owner.accessToken, from: client() });
      lastUsed = listed.body.items.find((item: { id: string }) => item.id === key.id)?.lastUsedAt ?? null;
      return lastUsed !== null;
    });
    const stored = await orm.em.fork().execute<Array<{ last_used_at: Date }>>('select last_used_at from api_key where id = ?', [key.id]);
    // Five reads within the window: the stored instant is the first one's, not rewritten by the four after it.
    for (let call = 0; call < 3; call += 1) expect((await tenantRead(team.tenantId, key.key)).status).toBe(200);
    expect((await orm.em.fork().execute<Array<{ last_used_at: Date }>>('select last_used_at from api_key where id = ?', [key.id]))[0]!.last_used_at).toEqual(stored[0]!.last_used_at);
  });
});
