/**
 * Issue 21 item 5, as an attacker meets it over HTTP: invitations are mail to strangers, rationed per tenant per day
 * (3 while unverified), per address per tenant per week (whatever was revoked in between) and per address across
 * unverified tenants per day. Every refusal is a 429 problem+json with Retry-After, and leaves no invitation, workflow or mail.
 */
import { KNOWN_PASSWORD, provisionTeam, type TestTenant } from '../support/auth';
import { mailsTo, waitForMails } from '../support/mailpit';
import { startSecurityStack, type SecurityStack } from '../support/security-stack';
import { uniqueSlug } from '../support/stack';
import { waitFor } from '../support/wait';

let stack: SecurityStack;

beforeAll(async () => {
  // Two invitations per address per tenant a week, three per address a day from all tenants: small enough to reach.
  stack = await startSecurityStack({ INVITATIONS_PER_RECIPIENT_PER_WEEK: '2', MAIL_PER_RECIPIENT_PER_DAY: '3' });
});
afterAll(async () => {
  await stack?.stop();
});

/** A tenant with seats to spare (pro), verified or not, and its owner's access token. */
async function tenant(verification: 'pending' | 'verified'): Promise<{ team: TestTenant; token: string }> {
  const team = await provisionTeam(stack.orm);
  const em = stack.orm.em.fork();
  await em.execute(`update billing_account set plan = 'pro', subscription_state = 'active' where tenant_id = ?`, [team.tenantId]);
  await em.execute(`update tenant set email_verification = ? where id = ?`, [verification, team.tenantId]);
  const signedIn = await stack.call('POST', '/api/v1/auth/login', { body: { email: team.members.owner.email, password: KNOWN_PASSWORD }, from: `198.51.100.${Math.floor(Math.random() * 200) + 1}` });
  expect(signedIn.status).toBe(200);
  return { team, token: signedIn.body.accessToken };
}

const invite = (tenantId: string, token: string, email: string) => stack.call('POST', `/api/v1/tenants/${tenantId}/invitations`, { token, body: { email, role: 'member' } });
const revoke = (tenantId: string, token: string, invitationId: string) => stack.call('DELETE', `/api/v1/tenants/${tenantId}/invitations/${invitationId}`, { token });

const invitationRows = async (tenantId: string, email?: string) =>
  Number(((await stack.orm.em.fork().execute(`select count(*) as count from invitation where tenant_id = ? ${email ? 'and email = ?' : ''}`, email ? [tenantId, email] : [tenantId]))[0] as { count: string }).count);
const invitationWorkflows = async (tenantId: string) => (await stack.plane.client.workflow.count(`WorkflowType = 'teamInvitation' AND TenantId = '${tenantId}'`)).count;

function expectRationRefusal(answer: { status: number; headers: Headers; body: any }) {
  expect(answer.status).toBe(429);
  expect(answer.headers.get('content-type')).toMatch(/application\/problem\+json/);
  expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(answer.body).toMatchObject({ status: 429, gate: 'protection', outcome: 'throttle' });
}

describe('the invitation mail ration', () => {
  it("refuses an unverified tenant's fourth invitation of the day with a 429, and queues nothing for it", async () => {
    const { team, token } = await tenant('pending');
    const strangers = [1, 2, 3, 4].map((n) => `stranger-${n}-${uniqueSlug('u')}@example.com`);
    for (const email of strangers.slice(0, 3)) expect((await invite(team.tenantId, token, email)).status).toBe(201);
    for (const email of strangers.slice(0, 3)) await waitForMails(email, 1);

    const fourth = await invite(team.tenantId, token, strangers[3]!);
    expectRationRefusal(fourth);
    // A day's window: the wait is hours, not seconds.
    expect(Number(fourth.headers.get('retry-after'))).toBeGreaterThan(23 * 3600);
    expect(fourth.body.reason).toBe("the tenant's invitation mails for today are spent");

    expect(await invitationRows(team.tenantId, strangers[3])).toBe(0);
    expect(await invitationRows(team.tenantId)).toBe(3);
    await waitFor(async () => (await invitationWorkflows(team.tenantId)) === 3);
    expect(await mailsTo(strangers[3]!)).toEqual([]);
    const ration = await stack.orm.em.fork().execute(`select recipient from mail_ration_entry where tenant_id = ? order by taken_at`, [team.tenantId]);
    expect(ration.map((row) => (row as { recipient: string }).recipient)).toEqual(strangers.slice(0, 3));
  });

  it('refuses invite-and-revoke cycles to one address past the per-address cap, whatever was revoked in between', async () => {
    const { team, token } = await tenant('verified');
    const target = `target-${uniqueSlug('r')}@example.com`;
    for (let cycle = 1; cycle <= 2; cycle += 1) {
      const invited = await invite(team.tenantId, token, target);
      expect(invited.status).toBe(201);
      // As the attack went: the mail arrives, then the invitation is revoked to free the address for the next one.
      await waitForMails(target, cycle);
      expect((await revoke(team.tenantId, token, invited.body.id)).status).toBe(204);
    }

    const third = await invite(team.tenantId, token, target);
    expectRationRefusal(third);
    expect(third.body.reason).toBe('too many invitations to this address lately');
    expect(await invitationRows(team.tenantId, target)).toBe(2);
    await waitFor(async () => (await invitationWorkflows(team.tenantId)) === 2);
    expect(await mailsTo(target)).toHaveLength(2);
    // The tenant's other invitations are not held up by one address's cap.
    expect((await invite(team.tenantId, token, `other-${uniqueSlug('r')}@example.com`)).status).toBe(201);
  });

  it('caps the invitations one address receives a day from unverified tenants together, and leaves verified tenants free to invite it', async () => {
    // Throwaway signups, never verified, aim at one stranger.
    const first = await tenant('pending');
    const second = await tenant('pending');
    const stranger = `popular-${uniqueSlug('x')}@example.com`;
    const fromFirst = await invite(first.team.tenantId, first.token, stranger);
    expect(fromFirst.status).toBe(201);
    await waitForMails(stranger, 1);
    expect((await revoke(first.team.tenantId, first.token, fromFirst.body.id)).status).toBe(204);
    expect((await invite(first.team.tenantId, first.token, stranger)).status).toBe(201);
    expect((await invite(second.team.tenantId, second.token, stranger)).status).toBe(201);
    await waitForMails(stranger, 3);

    // A third unverified tenant has sent this address nothing (its own cap is untouched): the address's daily cap refuses it.
    const other = await tenant('pending');
    const third = await invite(other.team.tenantId, other.token, stranger);
    expectRationRefusal(third);
    expect(third.body.reason).toBe('too many invitations to this address lately');
    expect(await invitationRows(other.team.tenantId)).toBe(0);
    expect(await invitationWorkflows(other.team.tenantId)).toBe(0);
    expect(await mailsTo(stranger)).toHaveLength(3);

    // The throwaways cannot use the cap up against a verified tenant that wants this person on its team.
    const employer = await tenant('verified');
    expect((await invite(employer.team.tenantId, employer.token, stranger)).status).toBe(201);
    await waitForMails(stranger, 4);
  });
});
