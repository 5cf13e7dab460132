import { randomInt } from 'node:crypto';
import { KNOWN_PASSWORD, provisionTeam } from '../support/auth';
import { linkToken, mailsTo, waitForMails } from '../support/mailpit';
import { startSecurityStack, type HttpAnswer, type SecurityStack } from '../support/security-stack';
import { uniqueSlug } from '../support/stack';
import { waitFor } from '../support/wait';

/**
 * Issue 21 item 6, as a stranger tries it over HTTP: no public answer tells whether an address has an account. Each
 * case asks about a registered address and a fresh one, and compares the answers byte for byte once ids and names are
 * taken out; then proves what the stranger's request did not write or send.
 */
let stack: SecurityStack;
beforeAll(async () => {
  stack = await startSecurityStack();
});
afterAll(() => stack?.stop());

const STRANGER_PASSWORD = 'Stranger-Chosen-Pass-61';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
/** A client address of its own per test and role, so no per-address limit couples the cases. */
const clientAddress = () => `198.51.${randomInt(0, 255)}.${randomInt(1, 254)}`;

/** What the client sees of an answer, with the ids and the names it asked for taken out. */
function comparable(answer: HttpAnswer, names: string[] = []) {
  const strip = (text: string) => names.reduce((out, name) => out.split(name).join('<name>'), text).replace(UUID, '<id>');
  return {
    status: answer.status,
    contentType: answer.headers.get('content-type'),
    location: strip(answer.headers.get('location') ?? ''),
    retryAfter: answer.headers.get('retry-after'),
    body: strip(answer.text),
  };
}

const count = async (sql: string, params: unknown[]) => Number((await stack.orm.em.fork().execute<Array<{ n: string }>>(sql, params))[0]?.n);

/** Polls the public progress until the saga has ended, and returns that last answer. */
async function finalProgress(workflowId: string, from: string): Promise<HttpAnswer<{ outcome: string }>> {
  let last: HttpAnswer<{ outcome: string }> | undefined;
  await waitFor(async () => {
    last = await stack.call<{ outcome: string }>('GET', `/api/v1/signup/${workflowId}`, { from });
    return last.status === 200 && last.body.outcome !== 'running';
  }, { timeoutMs: 30_000 });
  return last!;
}

describe('account oracle: public answers do not depend on whether an address has an account', () => {
  it('signup with a registered address answers, progresses and ends byte for byte like a fresh one, creates nothing and only tells the owner', async () => {
    const team = await provisionTeam(stack.orm);
    const registered = team.members.owner.email;
    const fresh = `fresh-${uniqueSlug('oracle')}@example.com`;
    const [registeredSlug, freshSlug] = [uniqueSlug('oracle-reg'), uniqueSlug('oracle-new')];
    const orgName = (slug: string) => slug.replace(/-/g, ' ');
    const stranger = clientAddress();
    const before = {
      users: await count('select count(*) as n from app_user where email = ?', [registered]),
      memberships: await count('select count(*) as n from tenant_membership where user_id = ?', [team.members.owner.userId]),
    };

    const signUp = (email: string, slug: string) => stack.call('POST', '/api/v1/signup', { from: stranger, body: { email, password: STRANGER_PASSWORD, orgName: orgName(slug) } });
    const registeredAccepted = await signUp(registered, registeredSlug);
    const freshAccepted = await signUp(fresh, freshSlug);
    expect(registeredAccepted.status).toBe(202);
    expect(comparable(registeredAccepted, [registeredSlug])).toEqual(comparable(freshAccepted, [freshSlug]));

    const registeredFinal = await finalProgress(String((registeredAccepted.body as { workflowId: string }).workflowId), stranger);
    const freshFinal = await finalProgress(String((freshAccepted.body as { workflowId: string }).workflowId), stranger);
    expect(freshFinal.body.outcome).toBe('active');
    expect(comparable(registeredFinal, [registeredSlug])).toEqual(comparable(freshFinal, [freshSlug]));

    // The same signup again, and a rival asking for each name: the same answers too.
    expect(comparable(await signUp(registered, registeredSlug), [registeredSlug])).toEqual(comparable(await signUp(fresh, freshSlug), [freshSlug]));
    const rival = (slug: string) => stack.call('POST', '/api/v1/signup', { from: clientAddress(), body: { email: `rival-${slug}@example.com`, password: STRANGER_PASSWORD, orgName: orgName(slug) } });
    const [rivalOfRegistered, rivalOfFresh] = [await rival(registeredSlug), await rival(freshSlug)];
    expect(rivalOfRegistered.status).toBe(409);
    expect(comparable(rivalOfRegistered, [registeredSlug])).toEqual(comparable(rivalOfFresh, [freshSlug]));

    // The owner is told, once; the fresh address gets its verification link, as a signup does.
    const [notice] = await waitForMails(registered, 1);
    expect(notice!.Subject).toMatch(/tried to sign up/i);
    expect(notice!.Text).not.toContain(STRANGER_PASSWORD);
    await waitForMails(fresh, 1);

    // Nothing was created for the registered address: no tenant, no user, no membership.
    const registeredTenantId = (registeredAccepted.body as { tenantId: string }).tenantId;
    expect(await count('select count(*) as n from tenant where id = ? or slug = ?', [registeredTenantId, registeredSlug])).toBe(0);
    expect(await count('select count(*) as n from app_user where email = ?', [registered])).toBe(before.users);
    expect(await count('select count(*) as n from tenant_membership where user_id = ?', [team.members.owner.userId])).toBe(before.memberships);
    // Nothing else was mailed: the notice is the owner's only mail (no verification link, none for the repeat).
    expect((await mailsTo(registered)).map((mail) => mail.Subject)).toEqual([notice!.Subject]);
  });

  it('a password reset request answers byte for byte the same for a registered and an unknown address, and mails only the account', async () => {
    const team = await provisionTeam(stack.orm);
    const registered = team.members.viewer.email;
    const unknown = `nobody-${uniqueSlug('oracle')}@example.com`;
    const ask = (email: string) => stack.call('POST', '/api/v1/auth/password-reset', { from: clientAddress(), body: { email } });
    const [forRegistered, forUnknown] = [await ask(registered), await ask(unknown)];
    expect(forRegistered.status).toBe(202);
    expect(comparable(forRegistered)).toEqual(comparable(forUnknown));

    await waitForMails(registered, 1);
    expect(await mailsTo(unknown)).toEqual([]);
    expect(await count('select count(*) as n from app_user where email = ?', [unknown])).toBe(0);
  });

  it('invitation acceptance answers byte for byte the same for a spent, a revoked and an unknown token, and writes nothing', async () => {
    const team = await provisionTeam(stack.orm);
    const from = clientAddress();
    const session = await stack.call<{ accessToken: string }>('POST', '/api/v1/auth/login', { from, body: { email: team.members.owner.email, password: KNOWN_PASSWORD, tenantId: team.tenantId } });
    expect(session.status).toBe(200);
    const token = session.body.accessToken;
    // Seats for the two invitations: the trial plan's three are all taken by the team.
    for (const role of ['admin', 'member', 'viewer'] as const) {
      expect((await stack.call('DELETE', `/api/v1/tenants/${team.tenantId}/members/${team.members[role].userId}`, { token, from })).status).toBe(204);
    }
    const invite = async (email: string) => {
      const invited = await stack.call<{ id: string }>('POST', `/api/v1/tenants/${team.tenantId}/invitations`, { token, from, body: { email, role: 'member' } });
      if (invited.status !== 201) throw new Error(invited.text);
      return { id: invited.body.id, token: linkToken((await waitForMails(email, 1))[0]!, 'accept-invitation') };
    };
    const spent = await invite(`spent-${uniqueSlug('oracle')}@example.com`);
    const accept = (linkTokenValue: string) => stack.call('POST', '/api/v1/invitations/accept', { from: clientAddress(), body: { token: linkTokenValue, password: STRANGER_PASSWORD } });
    expect((await accept(spent.token)).status).toBe(201);
    const revoked = await invite(`revoked-${uniqueSlug('oracle')}@example.com`);
    expect((await stack.call('DELETE', `/api/v1/tenants/${team.tenantId}/invitations/${revoked.id}`, { token, from })).status).toBe(204);
    const unknownToken = `${spent.token.slice(0, -4)}${spent.token.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;

    const membersBefore = await count('select count(*) as n from tenant_membership where tenant_id = ?', [team.tenantId]);
    const answers = [await accept(spent.token), await accept(revoked.token), await accept(unknownToken)];
    expect(answers[0]!.status).toBe(410);
    expect(answers.map((answer) => comparable(answer))).toEqual(answers.map(() => comparable(answers[0]!)));
    expect(await count('select count(*) as n from tenant_membership where tenant_id = ?', [team.tenantId])).toBe(membersBefore);
  });
});
