/**
 * Accounts through the API, end to end on the real dev server, Postgres and SMTP (Mailpit): a signup's email
 * verification and the limits of an unverified tenant, password reset, invitations within seats, and members.
 */
import type { Worker } from '@temporalio/worker';
import request from 'supertest';
import type { Orm } from '../../src/db/orm';
import { passwordResetWorkflowIdFor } from '../../src/services/accounts/password-reset-service';
import { emailVerificationWorkflowId, invitationWorkflowId } from '../../src/temporal/workflow-ids';
import { bearer, buildTestApp, KNOWN_PASSWORD, knownPasswordHash, login, provisionTeam, setTenantStatus, type TestApp } from '../support/auth';
import { linkToken, mailsTo, waitForMails } from '../support/mailpit';
import { createActiveTenant } from '../support/runs';
import { connectToDevServer, startWorker, testOrm, uniqueSlug, uniqueTaskQueue, type DevServerHarness } from '../support/stack';
import { waitFor } from '../support/wait';

let orm: Orm;
let temporal: DevServerHarness;
let worker: Worker;
let workerRun: Promise<void>;
let taskQueue: string;
let subject: TestApp;
const apps: TestApp[] = [];

/** An app on this file's task queue (its worker runs the account workflows), with the environment a test needs. */
async function app(env: Record<string, string> = {}, now?: () => Date): Promise<TestApp> {
  const built = await buildTestApp(orm, { env: { TEMPORAL_TASK_QUEUE: taskQueue, ...env }, now });
  apps.push(built);
  return built;
}

beforeAll(async () => {
  orm = await testOrm();
  temporal = await connectToDevServer();
  taskQueue = uniqueTaskQueue('accounts');
  worker = await startWorker({ connection: temporal.connection, taskQueue, orm });
  workerRun = worker.run();
  subject = await app({ UNVERIFIED_RUNS_PER_DAY: '1' });
});
afterAll(async () => {
  for await (const execution of temporal.client.workflow.list({ query: `TaskQueue="${taskQueue}" AND ExecutionStatus="Running"` })) {
    await temporal.client.workflow.getHandle(execution.workflowId, execution.runId).terminate('accounts suite finished').catch(() => undefined);
  }
  worker.shutdown();
  await workerRun;
  for (const built of apps) await built.close();
  await temporal.close();
  await orm.close(true);
});

const PASSWORD = 'Signup-Battery-Staple-42';
const NEW_PASSWORD = 'Another-Battery-Staple-77';
const auditActions = async (tenantId: string, prefix: string) =>
  (await orm.em.fork().execute<Array<{ action: string }>>(`select action from audit_event where tenant_id = ? and action like ? order by id`, [tenantId, `${prefix}%`])).map((row) => row.action);

/** A public signup, provisioned by the saga, with its owner signed in. */
async function signUp() {
  const slug = uniqueSlug('acct');
  const email = `owner-${slug}@example.com`;
  const accepted = await request(subject.app).post('/api/v1/signup').send({ email, password: PASSWORD, orgName: slug });
  expect(accepted.status).toBe(202);
  await waitFor(async () => (await request(subject.app).get(`/api/v1/signup/${accepted.body.workflowId}`)).body.outcome === 'active', { timeoutMs: 30_000 });
  const session = await request(subject.app).post('/api/v1/auth/login').send({ email, password: PASSWORD });
  return { tenantId: accepted.body.tenantId as string, slug, email, owner: bearer(session.body.accessToken) };
}

describe('email verification of a signup', () => {
  it('mails the owner a link; until it is opened the tenant is unverified and held to the operator limits; opening it lifts them', async () => {
    const signup = await signUp();
    const [mail] = await waitForMails(signup.email, 1);
    expect(mail!.Subject).toBe(`Verify your email for ${signup.slug} on Control Plane`);

    const before = await request(subject.app).get(`/api/v1/tenants/${signup.tenantId}`).set(signup.owner);
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ tenantId: signup.tenantId, status: 'active', emailVerification: { state: 'pending', verifiedAt: null, deadline: expect.any(String) }, seats: { limit: 3, members: 1, pending: 0 } });
    const key = await request(subject.app).post(`/api/v1/tenants/${signup.tenantId}/api-keys`).set(signup.owner).send({ name: 'ci', role: 'member' });
    expect(key.status).toBe(403);
    expect(key.body).toMatchObject({ gate: 'verification', title: 'Email not verified' });
    const plan = { steps: [{ kind: 'records.write', key: 'k', value: { v: 1 } }] };
    expect((await request(subject.app).post('/api/v1/runs').set(signup.owner).send(plan)).status).toBe(202);
    const overCeiling = await request(subject.app).post('/api/v1/runs').set(signup.owner).send(plan);
    expect(overCeiling.status).toBe(403);
    expect(overCeiling.body.gate).toBe('verification');

    // The link opens a page that posts the token; opening it spends nothing (a mail scanner may follow it first).
    const link = new URL(/https?:\/\/\S+\/verify-email\?token=\S+/.exec(mail!.Text)![0]);
    const page = await request(subject.app).get(`${link.pathname}${link.search}`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.text).toContain('/api/v1/auth/verify-email');
    const verified = await request(subject.app).post('/api/v1/auth/verify-email').send({ token: linkToken(mail!, 'verify-email') });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ tenantId: signup.tenantId });
    const after = await request(subject.app).get(`/api/v1/tenants/${signup.tenantId}`).set(signup.owner);
    expect(after.body.emailVerification).toMatchObject({ state: 'verified', verifiedAt: expect.any(String), deadline: null });
    expect((await request(subject.app).post(`/api/v1/tenants/${signup.tenantId}/api-keys`).set(signup.owner).send({ name: 'ci', role: 'member' })).status).toBe(201);
    expect((await temporal.client.workflow.getHandle(emailVerificationWorkflowId(signup.tenantId)).result()).outcome).toBe('verified');
    // The link was for one use.
    expect((await request(subject.app).post('/api/v1/auth/verify-email').send({ token: linkToken(mail!, 'verify-email') })).status).toBe(410);
  });

  it('resends on request, rate-limited per tenant: only the newest link works', async () => {
    const limited = await app({ VERIFICATION_RESENDS_PER_HOUR: '1' });
    const signup = await signUp();
    await waitForMails(signup.email, 1);
    const resent = await request(limited.app).post(`/api/v1/tenants/${signup.tenantId}/verification/resend`).set(signup.owner);
    expect(resent.status).toBe(202);
    expect(resent.body).toMatchObject({ outcome: 'pending', linksIssued: 2 });
    const again = await request(limited.app).post(`/api/v1/tenants/${signup.tenantId}/verification/resend`).set(signup.owner);
    expect(again.status).toBe(429);
    const [first, second] = await waitForMails(signup.email, 2);
    expect((await request(subject.app).post('/api/v1/auth/verify-email').send({ token: linkToken(first!, 'verify-email') })).status).toBe(410);
    expect((await request(subject.app).post('/api/v1/auth/verify-email').send({ token: linkToken(second!, 'verify-email') })).status).toBe(200);
    expect(await mailsTo(signup.email)).toHaveLength(2);
  });

  it('refuses a malformed token as a 400 naming it', async () => {
    const response = await request(subject.app).post('/api/v1/auth/verify-email').send({ token: 'not-a-token' });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ path: 'token', message: 'is not the token of a link' }]);
  });
});

describe('password reset', () => {
  it('answers an address without an account exactly as one with, does the same work for both, and mails only the account', async () => {
    const team = await provisionTeam(orm);
    const nobody = `nobody-${uniqueSlug('x')}@example.com`;
    const known = await request(subject.app).post('/api/v1/auth/password-reset').send({ email: team.members.owner.email });
    const unknown = await request(subject.app).post('/api/v1/auth/password-reset').send({ email: nobody });
    expect([known.status, unknown.status]).toEqual([202, 202]);
    expect(unknown.body).toEqual(known.body);
    await waitForMails(team.members.owner.email, 1);
    // The unknown address went through the same workflow: it looked, found nobody, and issued nothing.
    const unknownReset = temporal.client.workflow.getHandle(passwordResetWorkflowIdFor(nobody));
    await waitFor(async () => ((await unknownReset.fetchHistory()).events ?? []).some((event) => event.activityTaskCompletedEventAttributes));
    expect(await mailsTo(nobody)).toEqual([]);
  });

  it('sets a new password once: every session of the account ends, the link cannot be used again, audited', async () => {
    const team = await provisionTeam(orm);
    const owner = team.members.owner.email;
    const session = await login(subject.app, owner);
    await request(subject.app).post('/api/v1/auth/password-reset').send({ email: owner }).expect(202);
    const [mail] = await waitForMails(owner, 1);
    expect(mail!.Subject).toBe('Reset your Control Plane password');
    const token = linkToken(mail!, 'reset-password');

    // A password the policy refuses does not spend the link.
    const weak = await request(subject.app).post('/api/v1/auth/password-reset/complete').send({ token, password: 'short' });
    expect(weak.status).toBe(400);
    expect(weak.body.errors.map((error: { path: string }) => error.path)).toContain('password');
    expect((await request(subject.app).post('/api/v1/auth/password-reset/complete').send({ token, password: NEW_PASSWORD })).status).toBe(204);

    expect((await request(subject.app).post('/api/v1/auth/refresh').send({ refreshToken: session.refreshToken })).status).toBe(401);
    expect((await request(subject.app).post('/api/v1/auth/login').send({ email: owner, password: KNOWN_PASSWORD })).status).toBe(401);
    expect((await request(subject.app).post('/api/v1/auth/login').send({ email: owner, password: NEW_PASSWORD })).status).toBe(200);
    expect((await request(subject.app).post('/api/v1/auth/password-reset/complete').send({ token, password: 'Yet-Another-Password-99' })).status).toBe(410);
    const revoked = await orm.em.fork().execute(`select distinct revoked_reason from refresh_token where user_id = ? and revoked_at is not null`, [team.members.owner.userId]);
    expect(revoked).toEqual([{ revoked_reason: 'password_reset' }]);
    expect(await auditActions(team.tenantId, 'auth.password_reset')).toEqual(['auth.password_reset']);
  });

  it('refuses a link past its 30 minutes', async () => {
    const team = await provisionTeam(orm);
    const later = await app({}, () => new Date(Date.now() + 31 * 60_000));
    await request(subject.app).post('/api/v1/auth/password-reset').send({ email: team.members.owner.email }).expect(202);
    const token = linkToken((await waitForMails(team.members.owner.email, 1))[0]!, 'reset-password');
    expect((await request(later.app).post('/api/v1/auth/password-reset/complete').send({ token, password: NEW_PASSWORD })).status).toBe(410);
    // Refused for its age, not spent: within its 30 minutes it still works.
    expect((await request(subject.app).post('/api/v1/auth/password-reset/complete').send({ token, password: NEW_PASSWORD })).status).toBe(204);
  });

  it('limits requests per account, alike for addresses with and without an account', async () => {
    const limited = await app({ PASSWORD_RESET_PER_ACCOUNT_PER_HOUR: '2' });
    const team = await provisionTeam(orm);
    for (const email of [team.members.owner.email, `nobody-${uniqueSlug('y')}@example.com`]) {
      const statuses = [];
      for (let attempt = 0; attempt < 3; attempt += 1) statuses.push((await request(limited.app).post('/api/v1/auth/password-reset').send({ email })).status);
      expect(statuses).toEqual([202, 202, 429]);
    }
  });

  it('limits requests per client address, whatever addresses they ask about', async () => {
    const limited = await app({ PASSWORD_RESET_PER_IP_PER_HOUR: '3' });
    const statuses = [];
    for (let attempt = 0; attempt < 4; attempt += 1) statuses.push((await request(limited.app).post('/api/v1/auth/password-reset').send({ email: `spray-${attempt}-${uniqueSlug('z')}@example.com` })).status);
    expect(statuses).toEqual([202, 202, 202, 429]);
  });
});

describe('invitations and seats', () => {
  const invite = (built: TestApp, tenantId: string, caller: Record<string, string>, email: string, role = 'member') =>
    request(built.app).post(`/api/v1/tenants/${tenantId}/invitations`).set(caller).send({ email, role });

  it('lets an invited new person join with a password of their own, audited at every step', async () => {
    const team = await provisionTeam(orm);
    await orm.em.fork().execute(`update billing_account set plan = 'pro', subscription_state = 'active' where tenant_id = ?`, [team.tenantId]);
    const admin = bearer((await login(subject.app, team.members.admin.email)).accessToken);
    const email = `invitee-${uniqueSlug('n')}@example.com`;
    const invited = await invite(subject, team.tenantId, admin, email, 'member');
    expect(invited.status).toBe(201);
    expect(invited.body).toMatchObject({ email, role: 'member', status: 'pending', invitedBy: `user:${team.members.admin.userId}` });
    const [mail] = await waitForMails(email, 1);
    expect(mail!.Subject).toBe(`You are invited to join Org ${team.slug} on Control Plane`);
    expect(mail!.Text).toContain(`${team.members.admin.email} invited you`);
    const token = linkToken(mail!, 'accept-invitation');

    expect((await request(subject.app).post('/api/v1/invitations/accept').send({ token, password: 'short' })).status).toBe(400);
    const accepted = await request(subject.app).post('/api/v1/invitations/accept').send({ token, password: NEW_PASSWORD });
    expect(accepted.status).toBe(201);
    expect(accepted.body).toMatchObject({ tenantId: team.tenantId, role: 'member', newAccount: true });
    expect((await request(subject.app).post('/api/v1/invitations/accept').send({ token, password: NEW_PASSWORD })).status).toBe(410);
    expect((await request(subject.app).post('/api/v1/auth/login').send({ email, password: NEW_PASSWORD })).body.tenantId).toBe(team.tenantId);

    const members = await request(subject.app).get(`/api/v1/tenants/${team.tenantId}/members`).set(admin);
    expect(members.body.items).toContainEqual(expect.objectContaining({ email, role: 'member', emailVerified: true }));
    expect((await temporal.client.workflow.getHandle(invitationWorkflowId(invited.body.id)).result()).outcome).toBe('accepted');
    expect(await auditActions(team.tenantId, 'invitation.')).toEqual(['invitation.created', 'invitation.accepted']);
    expect(await auditActions(team.tenantId, 'member.')).toEqual(['member.added']);
  });

  it('lets someone with an account join with their own password, and no other', async () => {
    const team = await provisionTeam(orm);
    await orm.em.fork().execute(`update billing_account set plan = 'pro', subscription_state = 'active' where tenant_id = ?`, [team.tenantId]);
    const other = await provisionTeam(orm);
    const owner = bearer((await login(subject.app, team.members.owner.email)).accessToken);
    await invite(subject, team.tenantId, owner, other.members.viewer.email, 'admin').expect(201);
    const token = linkToken((await waitForMails(other.members.viewer.email, 1))[0]!, 'accept-invitation');
    expect((await request(subject.app).post('/api/v1/invitations/accept').send({ token, password: NEW_PASSWORD })).status).toBe(401);
    const accepted = await request(subject.app).post('/api/v1/invitations/accept').send({ token, password: KNOWN_PASSWORD });
    expect(accepted.status).toBe(201);
    expect(accepted.body).toMatchObject({ tenantId: team.tenantId, role: 'admin', newAccount: false, userId: other.members.viewer.userId });
    expect((await login(subject.app, other.members.viewer.email, team.tenantId)).accessToken).toEqual(expect.any(String));
  });

  it('lets nobody join a tenant that is not active, and keeps the invitation for when it is', async () => {
    const tenant = await createActiveTenant(orm);
    const owner = await ownerSession(tenant.tenantId, tenant.ownerEmail);
    const email = `paused-${uniqueSlug('p')}@example.com`;
    await invite(subject, tenant.tenantId, owner, email).expect(201);
    const token = linkToken((await waitForMails(email, 1))[0]!, 'accept-invitation');
    await setTenantStatus(orm, tenant.tenantId, 'suspended');
    const refused = await request(subject.app).post('/api/v1/invitations/accept').send({ token, password: NEW_PASSWORD });
    expect(refused.status).toBe(409);
    expect(refused.body.title).toBe('Tenant not available');
    await setTenantStatus(orm, tenant.tenantId, 'active');
    expect((await request(subject.app).post('/api/v1/invitations/accept').send({ token, password: NEW_PASSWORD })).status).toBe(201);
  });

  it("kills a revoked invitation's link and frees its seat", async () => {
    const tenant = await createActiveTenant(orm);
    const owner = await ownerSession(tenant.tenantId, tenant.ownerEmail);
    const email = `revoked-${uniqueSlug('r')}@example.com`;
    const invited = await invite(subject, tenant.tenantId, owner, email).expect(201);
    const token = linkToken((await waitForMails(email, 1))[0]!, 'accept-invitation');
    await request(subject.app).delete(`/api/v1/tenants/${tenant.tenantId}/invitations/${invited.body.id}`).set(owner).expect(204);
    await request(subject.app).delete(`/api/v1/tenants/${tenant.tenantId}/invitations/${invited.body.id}`).set(owner).expect(204);
    expect((await request(subject.app).post('/api/v1/invitations/accept').send({ token, password: NEW_PASSWORD })).status).toBe(410);
    expect((await temporal.client.workflow.getHandle(invitationWorkflowId(invited.body.id)).result()).outcome).toBe('revoked');
    expect((await request(subject.app).get(`/api/v1/tenants/${tenant.tenantId}/members`).set(owner)).body.seats).toEqual({ limit: 3, members: 1, pending: 0 });
  });

  it("never lets members plus pending invitations pass the plan's seats, not even two invitations at once", async () => {
    const tenant = await createActiveTenant(orm);
    const owner = await ownerSession(tenant.tenantId, tenant.ownerEmail);
    await invite(subject, tenant.tenantId, owner, `seat1-${uniqueSlug('s')}@example.com`).expect(201);
    // Trial: 3 seats. The owner and one pending invitation leave one; two invitations race for it.
    const raced = await Promise.all([1, 2].map((index) => invite(subject, tenant.tenantId, owner, `race${index}-${uniqueSlug('s')}@example.com`)));
    expect(raced.map((response) => response.status).sort()).toEqual([201, 409]);
    const refused = raced.find((response) => response.status === 409)!;
    expect(refused.body).toMatchObject({ title: 'No seat left', seats: { limit: 3, members: 1, pending: 2 } });
    expect((await invite(subject, tenant.tenantId, owner, `seat4-${uniqueSlug('s')}@example.com`)).status).toBe(409);
  });

  it('refuses an acceptance past the seats (pending invitations count)', async () => {
    const tenant = await createActiveTenant(orm);
    const owner = await ownerSession(tenant.tenantId, tenant.ownerEmail);
    const email = `late-${uniqueSlug('l')}@example.com`;
    await invite(subject, tenant.tenantId, owner, email).expect(201);
    const token = linkToken((await waitForMails(email, 1))[0]!, 'accept-invitation');
    // Two people joined meanwhile by other means: owner + 2 members fill the trial's 3 seats.
    for (const index of [1, 2]) await addMember(tenant.tenantId, `other${index}-${uniqueSlug('o')}@example.com`, 'member');
    const refused = await request(subject.app).post('/api/v1/invitations/accept').send({ token, password: NEW_PASSWORD });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ title: 'No seat left', seats: { limit: 3, members: 3, pending: 0 } });
    expect(await orm.em.fork().execute('select 1 from app_user where email = ?', [email])).toEqual([]);
  });
});

describe('members', () => {
  it('never demotes or removes the last owner; nobody acts above their own role; a removed member is signed out', async () => {
    const team = await provisionTeam(orm);
    const owner = bearer((await login(subject.app, team.members.owner.email)).accessToken);
    const admin = bearer((await login(subject.app, team.members.admin.email)).accessToken);
    const members = `/api/v1/tenants/${team.tenantId}/members`;

    const demoteSelf = await request(subject.app).patch(`${members}/${team.members.owner.userId}`).set(owner).send({ role: 'admin' });
    expect(demoteSelf.status).toBe(409);
    expect(demoteSelf.body.title).toBe('Last owner');
    expect((await request(subject.app).delete(`${members}/${team.members.owner.userId}`).set(owner)).status).toBe(409);
    expect((await request(subject.app).delete(`${members}/${team.members.owner.userId}`).set(admin)).status).toBe(403);
    expect((await request(subject.app).patch(`${members}/${team.members.member.userId}`).set(admin).send({ role: 'owner' })).status).toBe(403);

    await request(subject.app).patch(`${members}/${team.members.admin.userId}`).set(owner).send({ role: 'owner' }).expect(200);
    await request(subject.app).patch(`${members}/${team.members.owner.userId}`).set(owner).send({ role: 'member' }).expect(200);

    // A role change ends the changed member's sessions (promotion included): the new owner signs in again.
    expect((await request(subject.app).get(members).set(admin)).status).toBe(401);
    const promoted = bearer((await login(subject.app, team.members.admin.email)).accessToken);
    const viewerSession = await login(subject.app, team.members.viewer.email);
    await request(subject.app).delete(`${members}/${team.members.viewer.userId}`).set(promoted).expect(204);
    expect((await request(subject.app).post('/api/v1/auth/refresh').send({ refreshToken: viewerSession.refreshToken })).status).toBe(401);
    expect((await request(subject.app).get(members).set(promoted)).body.items.map((member: { role: string }) => member.role).sort()).toEqual(['member', 'member', 'owner']);
    expect(await auditActions(team.tenantId, 'member.')).toEqual(['member.role_changed', 'member.role_changed', 'member.removed']);
  });
});

async function addMember(tenantId: string, email: string, role: string): Promise<void> {
  const em = orm.em.fork();
  const [user] = await em.execute<Array<{ id: string }>>(`insert into app_user (id, email, password_hash, created_at) values (gen_random_uuid(), ?, 'scrypt$placeholder', now()) returning id`, [email]);
  await em.execute('insert into tenant_membership (id, tenant_id, user_id, role, created_at) values (gen_random_uuid(), ?, ?, ?, now())', [tenantId, user!.id, role]);
}

/** A session of the owner of a tenant made by the provisioning activities, with the known password set first. */
async function ownerSession(tenantId: string, email: string): Promise<Record<string, string>> {
  await orm.em.fork().execute('update app_user set password_hash = ? where email = ?', [await knownPasswordHash(), email]);
  return bearer((await login(subject.app, email, tenantId)).accessToken);
}
