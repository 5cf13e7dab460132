import { randomInt } from 'node:crypto';
import { OPERATORS, provisionTeam } from '../support/auth';
import { startSecurityStack, type SecurityStack } from '../support/security-stack';
import { uniqueSlug } from '../support/stack';
import { waitFor } from '../support/wait';

/**
 * Issue 21 item 8, over HTTP: a purged, never-verified signup gives its name back (no squatting in bulk), a soft
 * delete cannot be a termination in disguise, and a verification resend keeps its reason in the audit trail.
 */
let stack: SecurityStack;
beforeAll(async () => {
  stack = await startSecurityStack();
});
afterAll(() => stack?.stop());

const PASSWORD = 'Correct-horse-battery-42';
const clientAddress = () => `203.0.${randomInt(0, 255)}.${randomInt(1, 254)}`;
const rows = <Row>(sql: string, params: unknown[]) => stack.orm.em.fork().execute<Row[]>(sql, params);

async function signUpUntilActive(email: string, orgName: string): Promise<{ tenantId: string; workflowId: string }> {
  const accepted = await stack.call<{ tenantId: string; workflowId: string }>('POST', '/api/v1/signup', { from: clientAddress(), body: { email, password: PASSWORD, orgName } });
  expect(accepted.status).toBe(202);
  await waitFor(async () => (await stack.call<{ outcome: string }>('GET', `/api/v1/signup/${accepted.body.workflowId}`)).body.outcome === 'active', { timeoutMs: 30_000 });
  return accepted.body;
}

describe('names and retention cannot be abused', () => {
  it("keeps a resend's reason in its audit row, from the tenant's own route and from an operator's", async () => {
    const slug = uniqueSlug('resend-reason');
    const email = `owner-${slug}@example.com`;
    const { tenantId } = await signUpUntilActive(email, slug.replace(/-/g, ' '));
    const from = clientAddress();
    const session = await stack.call<{ accessToken: string }>('POST', '/api/v1/auth/login', { from, body: { email, password: PASSWORD } });
    expect(session.status).toBe(200);

    const own = await stack.call('POST', `/api/v1/tenants/${tenantId}/verification/resend`, { token: session.body.accessToken, from, body: { reason: 'the first mail went to spam' } });
    expect(own.status).toBe(202);
    const operator = await stack.call('POST', `/api/v1/admin/tenants/${tenantId}/verification/resend`, { token: OPERATORS.ops.token, from, body: { reason: 'customer called: mail bounced' } });
    expect(operator.status).toBe(202);

    const issued = await rows<{ actor: string; reason: string | null }>(`select actor, reason from audit_event where tenant_id = ? and action = 'verification.link_issued' order by id`, [tenantId]);
    expect(issued).toEqual(
      expect.arrayContaining([
        { actor: expect.stringMatching(/^user:/), reason: 'the first mail went to spam' },
        { actor: `operator:${OPERATORS.ops.name}`, reason: 'customer called: mail bounced' },
      ]),
    );
  });

  it('refuses an ops soft delete below the retention floor with 422 naming the floor and changes nothing; a founder, who may terminate, may', async () => {
    const team = await provisionTeam(stack.orm);
    const softDelete = (token: string, retentionDays: number) =>
      stack.call('DELETE', `/api/v1/admin/tenants/${team.tenantId}`, { token, from: clientAddress(), body: { reason: 'closing the account', retentionDays } });

    const refused = await softDelete(OPERATORS.ops.token, 1);
    expect(refused.status).toBe(422);
    expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(refused.body).toMatchObject({ status: 422, retentionFloorDays: 7, detail: expect.stringContaining('7 days'), errors: [{ path: 'retentionDays' }] });
    expect(await rows('select status from tenant where id = ?', [team.tenantId])).toEqual([{ status: 'active' }]);
    expect(await rows(`select 1 from audit_event where tenant_id = ? and action = 'lifecycle.soft_deleted'`, [team.tenantId])).toEqual([]);

    const byFounder = await softDelete(OPERATORS.founder.token, 1);
    expect(byFounder.status).toBe(202);
    expect(byFounder.body).toMatchObject({ action: 'softDelete', to: 'pending_deletion' });
  });

  it('gives back the name of a purged signup that was never verified: the tombstone keeps its record, and a new signup takes the name', async () => {
    const slug = uniqueSlug('released');
    const orgName = slug.replace(/-/g, ' ');
    const first = await signUpUntilActive(`first-${slug}@example.com`, orgName);
    const terminated = await stack.call('POST', `/api/v1/admin/tenants/${first.tenantId}/terminate`, { token: OPERATORS.founder.token, from: clientAddress(), body: { reason: 'never verified' } });
    expect(terminated.status).toBe(202);
    await waitFor(async () => (await rows<{ slug: string | null }>('select slug from tenant where id = ?', [first.tenantId]))[0]?.slug === null, { timeoutMs: 60_000 });
    expect(await rows('select released_slug, name from tenant where id = ?', [first.tenantId])).toEqual([{ released_slug: slug, name: orgName }]);
    expect(await rows(`select details->>'slug' as slug from audit_event where tenant_id = ? and action = 'offboarding.name_released'`, [first.tenantId])).toEqual([{ slug }]);

    const second = await signUpUntilActive(`second-${slug}@example.com`, orgName);
    expect(second.tenantId).not.toBe(first.tenantId);
    expect(await rows('select id from tenant where slug = ?', [slug])).toEqual([{ id: second.tenantId }]);
  });

  it('keeps the name of a purged tenant that was verified: a new signup for it is refused and writes nothing', async () => {
    const slug = uniqueSlug('kept');
    const orgName = slug.replace(/-/g, ' ');
    const first = await signUpUntilActive(`first-${slug}@example.com`, orgName);
    // Test setup: the owner opened the link (the verify-email route's effect on the row).
    await rows(`update tenant set email_verification = 'verified', email_verified_at = now() where id = ?`, [first.tenantId]);
    const terminated = await stack.call('POST', `/api/v1/admin/tenants/${first.tenantId}/terminate`, { token: OPERATORS.founder.token, from: clientAddress(), body: { reason: 'contract ended' } });
    expect(terminated.status).toBe(202);
    await waitFor(async () => (await rows(`select 1 from audit_event where tenant_id = ? and action = 'offboarding.purged'`, [first.tenantId])).length === 1, { timeoutMs: 60_000 });
    expect(await rows('select slug, released_slug from tenant where id = ?', [first.tenantId])).toEqual([{ slug, released_slug: null }]);

    const rivalEmail = `rival-${slug}@example.com`;
    const rival = await stack.call('POST', '/api/v1/signup', { from: clientAddress(), body: { email: rivalEmail, password: PASSWORD, orgName } });
    expect(rival.status).toBe(409);
    expect(await rows('select 1 from app_user where email = ?', [rivalEmail])).toEqual([]);
    expect(await rows('select id from tenant where slug = ?', [slug])).toEqual([{ id: first.tenantId }]);
  });
});
