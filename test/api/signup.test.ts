import request from 'supertest';
import { provisioningProgressQuery } from '../../src/contracts/provisioning';
import { provisioningWorkflowId, signupNoticeWorkflowId } from '../../src/temporal/workflow-ids';
import { ApplicationFailure } from '@temporalio/common';
import { DAY_MS } from '../../src/domain/duration';
import { createSignupService } from '../../src/services/signup-service';
import { startApiHarness, type ApiHarness } from '../support/api';
import { findOrphans } from '../support/invariants';
import { tenantFootprint } from '../support/provisioning';
import { uniqueSlug } from '../support/stack';
import { waitFor } from '../support/wait';
import { slugify } from '../../src/domain/slug';
import { provisioningStepFault } from '../../tools/fixtures/activity-faults';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApiHarness();
});
afterAll(() => api.close());

const PASSWORD = 'Correct-horse-battery-42';
const signupBody = (slug = uniqueSlug('acme')) => ({ email: `owner-${slug}@example.com`, password: PASSWORD, orgName: slug.replace(/-/g, ' ') });
/**
 * What a signup would leave of the identity it names: its tenant, its owner and their audit rows. Scoped to that
 * identity, because workflows that earlier tests set going (email verification among them) still write elsewhere.
 */
const rowsOf = async (body: Record<string, unknown>) =>
  Number(
    (
      await api.orm.em.fork().execute(
        `select (select count(*) from tenant where name = ?) + (select count(*) from app_user where email = lower(?))
           + (select count(*) from audit_event a join tenant t on t.id = a.tenant_id where t.name = ?) as n`,
        [String(body.orgName ?? ''), String(body.email ?? ''), String(body.orgName ?? '')],
      )
    )[0]?.n,
  );

async function waitForOutcome(workflowId: string) {
  let body: Record<string, unknown> = {};
  await waitFor(async () => {
    const response = await request(api.app).get(`/api/v1/signup/${workflowId}`);
    body = response.body;
    return response.status === 200 && ['active', 'failed'].includes(String(body.outcome));
  });
  return body;
}

describe('POST /api/v1/signup', () => {
  it('provisions an active tenant end to end: 202, Location, progress, schema and audit trail', async () => {
    const body = signupBody();
    const response = await request(api.app).post('/api/v1/signup').send(body);
    expect(response.status).toBe(202);
    const slug = body.orgName.replace(/ /g, '-');
    expect(response.body).toEqual({ tenantId: expect.any(String), slug, workflowId: provisioningWorkflowId(slug), outcome: 'running', status: 'provisioning' });
    expect(response.headers.location).toBe(`/api/v1/signup/${provisioningWorkflowId(slug)}`);

    const progress = await waitForOutcome(response.body.workflowId);
    expect(progress).toEqual({ workflowId: response.body.workflowId, tenantId: response.body.tenantId, slug, outcome: 'active', detail: 'Accepted: check your email to continue.' });
    const footprint = await tenantFootprint(api.orm, response.body.tenantId, body.email);
    expect(footprint).toMatchObject({ status: 'active', users: 1, memberships: 1, billingAccounts: 1, schemas: 1 });
    expect(footprint.auditActions).toContain('tenant.activated');
  });

  it('keeps the password out of the database rows, the audit trail and the workflow history', async () => {
    const body = signupBody();
    const response = await request(api.app).post('/api/v1/signup').send(body);
    await waitForOutcome(response.body.workflowId);
    const history = await api.temporal.client.workflow.getHandle(response.body.workflowId).fetchHistory();
    expect(JSON.stringify(history)).not.toContain(PASSWORD);
    expect(Buffer.from(JSON.stringify(history)).toString('base64')).not.toContain(Buffer.from(PASSWORD).toString('base64'));
    const rows = await api.orm.em.fork().execute('select row_to_json(a)::text as row from audit_event a where tenant_id = ?', [response.body.tenantId]);
    expect(JSON.stringify(rows)).not.toContain(PASSWORD);
    const user = await api.orm.em.fork().execute('select password_hash from app_user where email = ?', [body.email]);
    expect(user[0]?.password_hash).toMatch(/^scrypt\$/);
  });

  it('answers the same signup twice, even at the same moment, with one tenant and one workflow', async () => {
    const body = signupBody();
    const [first, second] = await Promise.all([
      request(api.app).post('/api/v1/signup').send(body),
      request(api.app).post('/api/v1/signup').send(body),
    ]);
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(second.body.tenantId).toBe(first.body.tenantId);
    expect(second.body.workflowId).toBe(first.body.workflowId);
    await waitForOutcome(first.body.workflowId);
    const again = await request(api.app).post('/api/v1/signup').send(body);
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ tenantId: first.body.tenantId, status: 'active' });
    const tenants = await api.orm.em.fork().execute('select count(*) as n from tenant where slug = ?', [first.body.slug]);
    expect(Number(tenants[0]?.n)).toBe(1);
  });

  it('answers a signup whose address has an account like any other, creates nothing, and tells operators what it was', async () => {
    const registered = signupBody();
    const first = await request(api.app).post('/api/v1/signup').send(registered);
    await waitForOutcome(first.body.workflowId);
    const stranger = { ...signupBody(), email: registered.email };
    const response = await request(api.app).post('/api/v1/signup').send(stranger);
    expect(response.status).toBe(202);
    const slug = stranger.orgName.replace(/ /g, '-');
    expect(response.body).toEqual({ tenantId: expect.any(String), slug, workflowId: provisioningWorkflowId(slug), outcome: 'running', status: 'provisioning' });
    expect(await waitForOutcome(response.body.workflowId)).toEqual({
      workflowId: response.body.workflowId,
      tenantId: response.body.tenantId,
      slug,
      outcome: 'active',
      detail: 'Accepted: check your email to continue.',
    });
    const tenants = await api.orm.em.fork().execute('select count(*) as n from tenant where id = ? or slug = ?', [response.body.tenantId, slug]);
    expect(Number(tenants[0]?.n)).toBe(0);
    const detail = await api.temporal.client.workflow.getHandle(response.body.workflowId).query(provisioningProgressQuery);
    expect(detail.outcome).toBe('existing_account_notified');
    // The same signup again is the same (decoy) signup, as a real one would be.
    const again = await request(api.app).post('/api/v1/signup').send(stranger);
    expect(again.body).toMatchObject({ tenantId: response.body.tenantId, status: 'active', outcome: 'active' });
  });

  it('ends as the decoy when the address gets an account between the screening and createOwner: rolled back, the owner told, public answer active', async () => {
    const body = signupBody();
    const slug = slugify(body.orgName);
    // The race, as the step meets it: another signup registered the address after this saga's screening.
    api.faults.add({
      workflowId: provisioningWorkflowId(slug),
      activity: 'createOwner',
      when: 'before',
      mode: 'permanent',
      error: () => ApplicationFailure.create({ type: 'EmailRegistered', message: 'the email belongs to an existing account', nonRetryable: true }),
    });
    const response = await request(api.app).post('/api/v1/signup').send(body);
    expect(response.status).toBe(202);
    expect(await waitForOutcome(response.body.workflowId)).toEqual({ workflowId: response.body.workflowId, tenantId: response.body.tenantId, slug, outcome: 'active', detail: 'Accepted: check your email to continue.' });
    const detail = await api.temporal.client.workflow.getHandle(response.body.workflowId).query(provisioningProgressQuery);
    expect(detail).toMatchObject({ outcome: 'existing_account_notified', failure: { step: 'createOwner', type: 'EmailRegistered' } });
    expect(await findOrphans(api.orm, { tenantIds: [response.body.tenantId], emails: [body.email] })).toEqual([]);
    expect(await api.orm.em.fork().execute('select id from tenant where id = ?', [response.body.tenantId])).toEqual([]);
    const notice = await api.temporal.client.workflow.getHandle(signupNoticeWorkflowId(response.body.tenantId)).describe();
    expect(notice.type).toBe('signupAttemptNotice');
    api.faults.clear(response.body.workflowId);
  });

  it("gives a decoy's name back after the unverified period, as a never-verified signup's is, and not before", async () => {
    const registered = signupBody();
    await waitForOutcome((await request(api.app).post('/api/v1/signup').send(registered)).body.workflowId);
    const decoy = { ...signupBody(), email: registered.email };
    const decoyAccepted = await request(api.app).post('/api/v1/signup').send(decoy);
    await waitForOutcome(decoyAccepted.body.workflowId);

    const days = 7;
    const signupsAt = (offsetMs: number) =>
      createSignupService({ client: api.temporal.client, taskQueue: api.taskQueue, orm: api.orm, verification: { reminderAfterHours: 48, abandonAfterDays: days }, now: () => new Date(Date.now() + offsetMs) });
    const rival = { email: `rival-${decoyAccepted.body.slug}@example.com`, password: PASSWORD, orgName: decoy.orgName, slug: decoyAccepted.body.slug as string };
    expect(await signupsAt(0).signup(rival)).toEqual({ kind: 'conflict', slug: rival.slug });
    expect(await signupsAt((days - 1) * DAY_MS).signup(rival)).toEqual({ kind: 'conflict', slug: rival.slug });
    const later = await signupsAt((days + 1) * DAY_MS).signup(rival);
    expect(later).toMatchObject({ kind: 'accepted', slug: rival.slug });
    expect(await waitForOutcome(provisioningWorkflowId(rival.slug))).toMatchObject({ outcome: 'active' });
  });

  it('keeps the name of an active tenant for good, however long ago its signup closed', async () => {
    const body = signupBody();
    const accepted = await request(api.app).post('/api/v1/signup').send(body);
    await waitForOutcome(accepted.body.workflowId);
    const farFuture = createSignupService({ client: api.temporal.client, taskQueue: api.taskQueue, orm: api.orm, now: () => new Date(Date.now() + 365 * DAY_MS) });
    const rival = { email: `rival-${accepted.body.slug}@example.com`, password: PASSWORD, orgName: body.orgName, slug: accepted.body.slug as string };
    expect(await farFuture.signup(rival)).toEqual({ kind: 'conflict', slug: rival.slug });
  });

  it('answers 409 problem+json when another email asks for a taken name', async () => {
    const body = signupBody();
    await request(api.app).post('/api/v1/signup').send(body).expect(202);
    const rival = await request(api.app).post('/api/v1/signup').send({ ...body, email: 'rival@example.com' });
    expect(rival.status).toBe(409);
    expect(rival.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(rival.body).toMatchObject({ status: 409, errors: [{ path: 'orgName', message: 'is taken' }] });
  });

  it('rolls back a failed signup, says which step failed in plain words, and accepts a retry', async () => {
    const body = signupBody();
    api.faults.add(provisioningStepFault(slugify(body.orgName), 'createTenantSchema', 'permanent'));
    const failed = await request(api.app).post('/api/v1/signup').send(body);
    expect(failed.status).toBe(202);
    const progress = await waitForOutcome(failed.body.workflowId);
    expect(progress).toMatchObject({ outcome: 'failed', detail: expect.stringMatching(/try again later/i) });
    expect(JSON.stringify(progress)).not.toMatch(/at .*\.ts:\d+/);
    // The step that failed is the operators' to read, not the public's.
    expect(progress).not.toHaveProperty('failure');
    const detail = await api.temporal.client.workflow.getHandle(failed.body.workflowId).query(provisioningProgressQuery);
    expect(detail.failure).toMatchObject({ step: 'createTenantSchema', type: 'InjectedFault' });
    expect(await findOrphans(api.orm, { tenantIds: [failed.body.tenantId], emails: [body.email] })).toEqual([]);

    api.faults.clear(failed.body.workflowId);
    const retry = await request(api.app).post('/api/v1/signup').send(body);
    expect(retry.status).toBe(202);
    expect(retry.body.tenantId).not.toBe(failed.body.tenantId);
    expect(await waitForOutcome(retry.body.workflowId)).toMatchObject({ outcome: 'active' });
  });

  describe('refuses bad input with problem+json and writes nothing', () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['an invalid email', { email: 'not-an-email' }, 'email'],
      ['a short password', { password: 'Short-1' }, 'password'],
      ['a one-class password', { password: 'abcdefghijklmnop' }, 'password'],
      ['a password containing the email', { email: 'marvellous@example.com', password: 'Xmarvellous-2024' }, 'password'],
      ['a name too short for a slug', { orgName: '!!' }, 'orgName'],
      ['a name too long for a slug', { orgName: 'a'.repeat(64) }, 'orgName'],
      ['a reserved name', { orgName: 'Admin' }, 'orgName'],
      ['an unknown field', { plan: 'enterprise' }, 'plan'],
      ['a missing field', { orgName: undefined }, 'orgName'],
    ];
    it.each(cases)('%s', async (_name, change, path) => {
      const body = { ...signupBody(), ...change };
      const before = await rowsOf(body);
      const response = await request(api.app).post('/api/v1/signup').send(body);
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(response.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
      expect(JSON.stringify(response.body)).not.toContain(PASSWORD);
      expect(await rowsOf(body)).toBe(before);
    });

    it('an oversized body: 413', async () => {
      const response = await request(api.app).post('/api/v1/signup').send({ ...signupBody(), orgName: 'x'.repeat(20_000) });
      expect(response.status).toBe(413);
      expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    });

    it('a wrong content type: 415', async () => {
      const response = await request(api.app).post('/api/v1/signup').set('content-type', 'text/plain').send('email=a@b.c');
      expect(response.status).toBe(415);
      expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    });

    it('malformed JSON: 400', async () => {
      const response = await request(api.app).post('/api/v1/signup').set('content-type', 'application/json').send('{"email":');
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    });
  });

  it('does not exist when HOSTED_MODE is off: 404 for both the signup and its status', async () => {
    const app = api.build({ HOSTED_MODE: 'false' });
    const post = await request(app).post('/api/v1/signup').send(signupBody());
    expect(post.status).toBe(404);
    expect(post.headers['content-type']).toMatch(/application\/problem\+json/);
    expect((await request(app).get('/api/v1/signup/provision:whatever')).status).toBe(404);
  });

  it('limits signups per client address: 429 with Retry-After past the limit', async () => {
    const app = api.build({ SIGNUP_RATE_LIMIT_PER_HOUR: '2' });
    const invalid = { email: 'x' };
    await request(app).post('/api/v1/signup').send(invalid).expect(400);
    await request(app).post('/api/v1/signup').send(invalid).expect(400);
    const limited = await request(app).post('/api/v1/signup').send(signupBody());
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  it('behind a trusted proxy, limits each forwarded client address on its own, never the proxy as a whole', async () => {
    const app = api.build({ SIGNUP_RATE_LIMIT_PER_HOUR: '1' }, { trustProxy: 1 });
    const invalid = { email: 'x' };
    const from = (address: string) => request(app).post('/api/v1/signup').set('X-Forwarded-For', address).send(invalid);
    expect((await from('203.0.113.7')).status).toBe(400);
    expect((await from('203.0.113.7')).status).toBe(429);
    expect((await from('198.51.100.9')).status).toBe(400);
  });

  it('answers 404 for an unknown signup and 400 for a malformed id', async () => {
    expect((await request(api.app).get('/api/v1/signup/provision:no-such-org-here')).status).toBe(404);
    const malformed = await request(api.app).get('/api/v1/signup/tenant:Not_A_Slug');
    expect(malformed.status).toBe(400);
  });

  it('counts signups and provisions on /metrics with aggregate labels only', async () => {
    const body = signupBody();
    const response = await request(api.app).post('/api/v1/signup').send(body);
    await waitForOutcome(response.body.workflowId);
    await waitFor(async () => (await request(api.app).get('/metrics')).text.includes('provisions_total{outcome="active"}'));
    const metrics = (await request(api.app).get('/metrics')).text;
    expect(metrics).toMatch(/signups_total\{outcome="accepted"\} \d+/);
    expect(metrics).toMatch(/provisioning_duration_seconds_bucket/);
    expect(metrics).not.toContain(response.body.tenantId);
  });
});
