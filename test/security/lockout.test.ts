/**
 * Issue 21 item 7, as an attacker meets it over HTTP: failed credential checks lock the (account, client) pair and the
 * client address, never the victim signing in from elsewhere; guessing from many addresses slows unknown clients of
 * the account but not a client holding the account's device cookie; invitation acceptance and link routes share the
 * same counters. Each refusal is a 429 that issued no session. A burst of concurrent guesses gets no more checks than
 * guesses one after another: each attempt is counted before its password is checked.
 */
import { randomBytes } from 'node:crypto';
import { KNOWN_PASSWORD, provisionTeam, type TestTenant } from '../support/auth';
import { linkToken, waitForMails } from '../support/mailpit';
import { startSecurityStack, type HttpAnswer, type SecurityStack } from '../support/security-stack';

const WRONG = 'Wrong-Password-123';
let stack: SecurityStack;
let addresses = 0;
/** An address no other test of the file speaks from. */
const freshAddress = () => {
  addresses += 1;
  return `203.0.${Math.floor(addresses / 250)}.${(addresses % 250) + 1}`;
};

beforeAll(async () => {
  // Five failures lock an account at a client (the default), eight from clients without the device cookie lock the
  // account for them, ten lock a client address.
  stack = await startSecurityStack({ LOGIN_FAILURES_PER_ACCOUNT: '8', LOGIN_FAILURES_PER_IP: '10' });
});
afterAll(async () => {
  await stack?.stop();
});

const signIn = (email: string, password: string, from: string, cookie?: string) =>
  stack.call('POST', '/api/v1/auth/login', { body: { email, password }, from, headers: cookie ? { cookie } : {} });

/** The device cookie a successful sign-in set, as a browser would send it back. */
function deviceCookieOf(answer: HttpAnswer): string {
  const set = answer.headers.get('set-cookie') ?? '';
  expect(set).toMatch(/^cp_device=[^;]+; .*HttpOnly/i);
  expect(set).toMatch(/SameSite=Strict/i);
  return set.split(';')[0]!;
}

const sessionsOf = async (userId: string) => Number(((await stack.orm.em.fork().execute('select count(*) as count from refresh_token where user_id = ?', [userId]))[0] as { count: string }).count);

function expectThrottled(answer: HttpAnswer<any>) {
  expect(answer.status).toBe(429);
  expect(answer.headers.get('content-type')).toMatch(/application\/problem\+json/);
  expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(answer.body).toMatchObject({ gate: 'protection', outcome: 'throttle', reason: 'too many failed sign-ins; try again later' });
}

describe('lockout an attacker cannot aim', () => {
  let team: TestTenant;
  beforeAll(async () => {
    team = await provisionTeam(stack.orm);
  });

  it("locks the attacker's address out of the account after twelve wrong passwords, while the owner signs in from another address", async () => {
    const owner = team.members.owner;
    const attacker = freshAddress();
    const before = await sessionsOf(owner.userId);
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 12; attempt += 1) statuses.push((await signIn(owner.email, WRONG, attacker)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429, 429, 429, 429, 429]);
    // Locked at that address even for the right password: the check is never made, no session is issued.
    expectThrottled(await signIn(owner.email, KNOWN_PASSWORD, attacker));
    expect(await sessionsOf(owner.userId)).toBe(before);

    const victim = await signIn(owner.email, KNOWN_PASSWORD, freshAddress());
    expect(victim.status).toBe(200);
    expect(victim.body).toMatchObject({ userId: owner.userId, tenantId: team.tenantId });
    expect(await sessionsOf(owner.userId)).toBe(before + 1);
  });

  it('checks no more than five of thirty concurrent wrong passwords from one address: the rest are refused before the check', async () => {
    const { owner } = (await provisionTeam(stack.orm)).members;
    const attacker = freshAddress();
    const before = await sessionsOf(owner.userId);
    const answers = await Promise.all(Array.from({ length: 30 }, () => signIn(owner.email, WRONG, attacker)));
    expect(answers.filter((answer) => answer.status === 401)).toHaveLength(5);
    const refused = answers.filter((answer) => answer.status !== 401);
    expect(refused).toHaveLength(25);
    for (const answer of refused) expectThrottled(answer);
    // Five guesses locked the pair: the right password from there is not even checked, and no session is issued.
    expectThrottled(await signIn(owner.email, KNOWN_PASSWORD, attacker));
    expect(await sessionsOf(owner.userId)).toBe(before);
    // Only five failures reached the account-wide counter (eight lock it): the owner signs in from elsewhere.
    expect((await signIn(owner.email, KNOWN_PASSWORD, freshAddress())).status).toBe(200);
    expect(await sessionsOf(owner.userId)).toBe(before + 1);
  });

  it('slows unknown clients after guessing from many addresses, but not a client holding the account’s device cookie', async () => {
    const admin = team.members.admin;
    const trusted = await signIn(admin.email, KNOWN_PASSWORD, freshAddress());
    expect(trusted.status).toBe(200);
    const cookie = deviceCookieOf(trusted);
    // Another account's cookie proves nothing for this one.
    const otherAccount = deviceCookieOf(await signIn(team.members.viewer.email, KNOWN_PASSWORD, freshAddress()));

    for (let attacker = 0; attacker < 8; attacker += 1) expect((await signIn(admin.email, WRONG, freshAddress())).status).toBe(401);

    const before = await sessionsOf(admin.userId);
    expectThrottled(await signIn(admin.email, KNOWN_PASSWORD, freshAddress()));
    expectThrottled(await signIn(admin.email, KNOWN_PASSWORD, freshAddress(), otherAccount));
    expect(await sessionsOf(admin.userId)).toBe(before);

    // The admin's own browser, even from an address it never used: exempt from the account-wide lock.
    const fromHome = await signIn(admin.email, KNOWN_PASSWORD, freshAddress(), cookie);
    expect(fromHome.status).toBe(200);
    expect(await sessionsOf(admin.userId)).toBe(before + 1);
  });

  it("counts a device cookie's own failures: five wrong passwords lock that cookie", async () => {
    const member = team.members.member;
    const cookie = deviceCookieOf(await signIn(member.email, KNOWN_PASSWORD, freshAddress()));
    const statuses: number[] = [];
    // Each attempt from a new address: only the cookie's counter sees them all.
    for (let attempt = 0; attempt < 5; attempt += 1) statuses.push((await signIn(member.email, WRONG, freshAddress(), cookie)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    const before = await sessionsOf(member.userId);
    expectThrottled(await signIn(member.email, KNOWN_PASSWORD, freshAddress(), cookie));
    expect(await sessionsOf(member.userId)).toBe(before);
    // Without the locked cookie, a fresh client is not held by it.
    expect((await signIn(member.email, KNOWN_PASSWORD, freshAddress())).status).toBe(200);
  });

  it('throttles password guesses through invitation acceptance with the same counters as sign-in', async () => {
    // The victim has an account (in another tenant); an invitation to it asks for that account's password.
    const victimTeam = await provisionTeam(stack.orm);
    const victim = victimTeam.members.viewer;
    await stack.orm.em.fork().execute(`update billing_account set plan = 'pro', subscription_state = 'active' where tenant_id = ?`, [team.tenantId]);
    const ownerToken = (await signIn(team.members.owner.email, KNOWN_PASSWORD, freshAddress())).body.accessToken;
    expect((await stack.call('POST', `/api/v1/tenants/${team.tenantId}/invitations`, { token: ownerToken, body: { email: victim.email, role: 'member' } })).status).toBe(201);
    const token = linkToken((await waitForMails(victim.email, 1))[0]!, 'accept-invitation');

    const attacker = freshAddress();
    const accept = (password: string) => stack.call('POST', '/api/v1/invitations/accept', { body: { token, password }, from: attacker });
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 6; attempt += 1) statuses.push((await accept(WRONG)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    expectThrottled(await accept(KNOWN_PASSWORD));
    // The same (account, address) counter: signing in to the victim's account from there is locked too.
    expectThrottled(await signIn(victim.email, KNOWN_PASSWORD, attacker));
    const joined = await stack.orm.em.fork().execute('select 1 from tenant_membership where tenant_id = ? and user_id = ?', [team.tenantId, victim.userId]);
    expect(joined).toEqual([]);

    // The victim, from their own address, accepts.
    const accepted = await stack.call('POST', '/api/v1/invitations/accept', { body: { token, password: KNOWN_PASSWORD }, from: freshAddress() });
    expect(accepted.status).toBe(201);
  });

  it('counts guessed link tokens against the client address that sign-in shares', async () => {
    const guesser = freshAddress();
    const guess = () => `cp_lt_${randomBytes(32).toString('base64url')}`;
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 6; attempt += 1) statuses.push((await stack.call('POST', '/api/v1/auth/verify-email', { body: { token: guess() }, from: guesser })).status);
    for (let attempt = 0; attempt < 4; attempt += 1) statuses.push((await stack.call('POST', '/api/v1/auth/password-reset/complete', { body: { token: guess(), password: 'Another-Password-77' }, from: guesser })).status);
    expect(statuses).toEqual(Array(10).fill(410));
    expectThrottled(await stack.call('POST', '/api/v1/auth/verify-email', { body: { token: guess() }, from: guesser }));
    const before = await sessionsOf(team.members.owner.userId);
    expectThrottled(await signIn(team.members.owner.email, KNOWN_PASSWORD, guesser));
    expect(await sessionsOf(team.members.owner.userId)).toBe(before);
    // A stranger's guesses never reach the owner elsewhere.
    expect((await signIn(team.members.owner.email, KNOWN_PASSWORD, freshAddress())).status).toBe(200);
  });
});
