/**
 * Issue 21 item 4, as an attacker tries it over real HTTP against the running stack: an anonymous flood cannot lock
 * out signed-in tenants or operators, a tenant over its own budget is refused alone, and the counters hold across API
 * processes. Budgets are set low for the stack: 5 requests a minute per address without valid credentials, 30 for
 * all of those together, and plans at a twentieth (a trial tenant 15 a minute, one credential 8).
 */
import { randomUUID } from 'node:crypto';
import { KNOWN_PASSWORD, OPERATORS, provisionTeam, type TestTenant } from '../support/auth';
import { mailsTo, waitForMails } from '../support/mailpit';
import { startSecurityStack, type HttpAnswer, type SecurityStack } from '../support/security-stack';
import { uniqueSlug, uniqueTaskQueue } from '../support/stack';

const PER_ADDRESS = 5;
const ANONYMOUS_CEILING = 30;
const TRIAL_TENANT = 15;
const TRIAL_CREDENTIAL = 8;

/** The deployment both API processes of the last test belong to: its counters are shared by its task queue. */
const DEPLOYMENT = uniqueTaskQueue('security-limits');
const LIMITS = {
  TEMPORAL_TASK_QUEUE: DEPLOYMENT,
  ANONYMOUS_RATE_LIMIT_PER_IP_PER_MINUTE: String(PER_ADDRESS),
  GLOBAL_RATE_LIMIT_PER_MINUTE: String(ANONYMOUS_CEILING),
  TENANT_REQUEST_BUDGET_PERCENT: '5',
  OPERATOR_RATE_LIMIT_PER_MINUTE: '1000',
};

let stack: SecurityStack;
beforeAll(async () => {
  stack = await startSecurityStack(LIMITS);
});
afterAll(() => stack?.stop());

/** Each test speaks from addresses of its own (documentation ranges), so no test spends another's budget. */
let nextOctet = 1;
const freshAddress = () => `198.51.${Math.floor(nextOctet / 250)}.${(nextOctet++ % 250) + 1}`;

async function signIn(target: SecurityStack, email: string, from: string): Promise<string> {
  const answer = await target.call<{ accessToken: string }>('POST', '/api/v1/auth/login', { body: { email, password: KNOWN_PASSWORD }, from });
  if (answer.status !== 200) throw new Error(`login of ${email} answered ${answer.status}`);
  return answer.body.accessToken;
}

async function createKey(target: SecurityStack, team: TestTenant, ownerToken: string, from: string): Promise<string> {
  const answer = await target.call<{ key: string }>('POST', `/api/v1/tenants/${team.tenantId}/api-keys`, { token: ownerToken, body: { name: 'rate limit probe', role: 'member' }, from });
  if (answer.status !== 201) throw new Error(`key creation answered ${answer.status}: ${answer.text}`);
  return answer.body.key;
}

const limitsOf = (team: TestTenant) => `/api/v1/tenants/${team.tenantId}/limits`;

/** The items of a RateLimit or RateLimit-Policy field by policy name: `"tenant";r=3;t=40` → { tenant: { r: 3, t: 40 } }. */
function fieldItems(answer: HttpAnswer, field: 'ratelimit' | 'ratelimit-policy'): Record<string, Record<string, number>> {
  const items: Record<string, Record<string, number>> = {};
  for (const item of (answer.headers.get(field) ?? '').split(',').map((part) => part.trim()).filter(Boolean)) {
    const [name, ...parameters] = item.split(';').map((part) => part.trim());
    items[JSON.parse(name!) as string] = Object.fromEntries(parameters.map((parameter) => parameter.split('=')).map(([key, value]) => [key!, Number(value)]));
  }
  return items;
}

function expectThrottledBy(answer: HttpAnswer, policy: string, quota: number) {
  expect(answer.status).toBe(429);
  expect(answer.headers.get('content-type')).toMatch(/application\/problem\+json/);
  expect(answer.body).toMatchObject({ status: 429, outcome: 'throttle' });
  const retryAfter = Number(answer.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(fieldItems(answer, 'ratelimit-policy')[policy]).toEqual({ q: quota, w: 60 });
  expect(fieldItems(answer, 'ratelimit')[policy]).toEqual({ r: 0, t: retryAfter });
}

const countRows = async (target: SecurityStack, sql: string, params: unknown[]) => Number((await target.orm.em.fork().execute<Array<{ n: string }>>(sql, params))[0]!.n);

// The anonymous ceiling is spent by the last test: the tests before it need anonymous requests (sign-ins) of their own.
describe('request budgets at the public edge', () => {
  it('refuses an address flooding made-up API keys without looking its keys up, while sessions from it and keys from elsewhere pass', async () => {
    const team = await provisionTeam(stack.orm);
    const session = await signIn(stack, team.members.owner.email, freshAddress());
    const realKey = await createKey(stack, team, session, freshAddress());
    const guesser = freshAddress();
    const guesses: number[] = [];
    for (let attempt = 0; attempt < PER_ADDRESS + 3; attempt += 1) {
      guesses.push((await stack.call('GET', limitsOf(team), { token: `cp_live_guess${attempt % 10}xx_${'A'.repeat(43)}`, from: guesser })).status);
    }
    expect(guesses).toEqual([...Array(PER_ADDRESS).fill(401), 429, 429, 429]);

    // A real key from that address is refused unread: had it been looked up, it would have been let in.
    expectThrottledBy(await stack.call('GET', limitsOf(team), { token: realKey, from: guesser }), 'address', PER_ADDRESS);
    // A session is proven by its signature, without a lookup, and keeps working there; the key works elsewhere.
    expect((await stack.call('GET', limitsOf(team), { token: session, from: guesser })).status).toBe(200);
    expect((await stack.call('GET', limitsOf(team), { token: realKey, from: freshAddress() })).status).toBe(200);
    // Nothing of the tenant was touched by the guesses: no key was used or made.
    expect(await countRows(stack, 'select count(*) as n from api_key where tenant_id = ?', [team.tenantId])).toBe(1);
  });

  it('refuses a tenant over its own budget with Retry-After and RateLimit fields, and leaves another tenant alone', async () => {
    const [busy, quiet] = [await provisionTeam(stack.orm), await provisionTeam(stack.orm)];
    const [owner, admin, member] = await Promise.all((['owner', 'admin', 'member'] as const).map((role) => signIn(stack, busy.members[role].email, freshAddress())));
    const from = freshAddress();

    // One credential spends its share, then is refused; the tenant's other people still get theirs.
    for (let request = 1; request <= TRIAL_CREDENTIAL; request += 1) expect((await stack.call('GET', limitsOf(busy), { token: owner, from })).status).toBe(200);
    const overShare = await stack.call('POST', `/api/v1/tenants/${busy.tenantId}/api-keys`, { token: owner, body: { name: 'over budget', role: 'member' }, from });
    expectThrottledBy(overShare, 'credential', TRIAL_CREDENTIAL);
    expect(await countRows(stack, 'select count(*) as n from api_key where tenant_id = ?', [busy.tenantId])).toBe(0);

    // The admin spends what is left of the tenant's budget; past it, every credential of the tenant is refused.
    for (let request = TRIAL_CREDENTIAL + 1; request <= TRIAL_TENANT; request += 1) expect((await stack.call('GET', limitsOf(busy), { token: admin, from })).status).toBe(200);
    const overTenant = await stack.call('POST', `/api/v1/tenants/${busy.tenantId}/api-keys`, { token: member, body: { name: 'over budget', role: 'member' }, from });
    expect(overTenant.status).toBe(429);
    expectThrottledBy(await stack.call('GET', limitsOf(busy), { token: member, from }), 'tenant', TRIAL_TENANT);
    expect(await countRows(stack, 'select count(*) as n from api_key where tenant_id = ?', [busy.tenantId])).toBe(0);

    // Another tenant, from the same address: its whole budget, shown in the fields of a success.
    const quietOwner = await signIn(stack, quiet.members.owner.email, freshAddress());
    const unaffected = await stack.call('GET', limitsOf(quiet), { token: quietOwner, from });
    expect(unaffected.status).toBe(200);
    expect(fieldItems(unaffected, 'ratelimit-policy')).toEqual({ credential: { q: TRIAL_CREDENTIAL, w: 60 }, tenant: { q: TRIAL_TENANT, w: 60 } });
    expect(fieldItems(unaffected, 'ratelimit').tenant?.r).toBe(TRIAL_TENANT - 1);
  });

  it('holds the limits across API processes: two processes of one deployment draw on the same counters', async () => {
    // A second API process of the same deployment (same task queue, same database), as behind a load balancer.
    const second = await startSecurityStack({ ...LIMITS, PROCESS_ROLES: 'api' });
    try {
      const team = await provisionTeam(stack.orm);
      const owner = await signIn(stack, team.members.owner.email, freshAddress());
      const from = freshAddress();
      const statuses: number[] = [];
      for (let request = 0; request < TRIAL_CREDENTIAL + 1; request += 1) statuses.push((await (request % 2 === 0 ? stack : second).call('GET', limitsOf(team), { token: owner, from })).status);
      expect(statuses).toEqual([...Array(TRIAL_CREDENTIAL).fill(200), 429]);

      const anonymous = freshAddress();
      const anonymousStatuses: number[] = [];
      for (let request = 0; request < PER_ADDRESS + 1; request += 1) anonymousStatuses.push((await (request % 2 === 0 ? second : stack).call('GET', limitsOf(team), { from: anonymous })).status);
      expect(anonymousStatuses).toEqual([...Array(PER_ADDRESS).fill(401), 429]);
    } finally {
      await second.stop();
    }
  });

  it('refuses an anonymous flood per address and at the anonymous ceiling, while a signed-in tenant, another tenant’s API key and an operator keep getting 200', async () => {
    const [signedIn, keyHolder] = [await provisionTeam(stack.orm), await provisionTeam(stack.orm)];
    const ownerToken = await signIn(stack, signedIn.members.owner.email, freshAddress());
    const otherOwner = await signIn(stack, keyHolder.members.owner.email, freshAddress());
    const apiKey = await createKey(stack, keyHolder, otherOwner, freshAddress());
    const adminLogin = await stack.call<{ refreshToken: string }>('POST', '/api/v1/auth/login', { body: { email: signedIn.members.admin.email, password: KNOWN_PASSWORD }, from: freshAddress() });
    expect(adminLogin.status).toBe(200);

    // The flood from one address: signups, each of which would provision a tenant and mail its owner.
    const attacker = freshAddress();
    const signups = Array.from({ length: 3 * PER_ADDRESS }, () => {
      const slug = uniqueSlug('flood');
      return { email: `owner-${slug}@example.com`, password: 'Flood-Password-1234', orgName: slug };
    });
    const answers: HttpAnswer[] = [];
    for (const body of signups) answers.push(await stack.call('POST', '/api/v1/signup', { body, from: attacker }));
    expect(answers.map((answer) => answer.status)).toEqual([...Array(PER_ADDRESS).fill(202), ...Array(2 * PER_ADDRESS).fill(429)]);
    for (const refused of answers.slice(PER_ADDRESS)) expectThrottledBy(refused, 'address', PER_ADDRESS);

    // Then from many addresses at once, until the ceiling every anonymous caller shares is spent.
    const spread = await Promise.all(Array.from({ length: ANONYMOUS_CEILING }, () => stack.call('GET', `/api/v1/tenants/${randomUUID()}/limits`, { from: freshAddress() })));
    expect(spread.filter((answer) => answer.status === 429).length).toBeGreaterThan(0);
    const bystander = await stack.call('GET', `/api/v1/tenants/${randomUUID()}/limits`, { from: freshAddress() });
    expectThrottledBy(bystander, 'anonymous', ANONYMOUS_CEILING);

    // The people with credentials, speaking from the flooding address itself: none of the flood was theirs to pay.
    const tenant = await stack.call('GET', limitsOf(signedIn), { token: ownerToken, from: attacker });
    expect(tenant.status).toBe(200);
    expect(fieldItems(tenant, 'ratelimit').tenant?.r).toBe(TRIAL_TENANT - 1);
    const byKey = await stack.call('GET', limitsOf(keyHolder), { token: apiKey, from: attacker });
    expect(byKey.status).toBe(200);
    expect(fieldItems(byKey, 'ratelimit').credential?.r).toBe(TRIAL_CREDENTIAL - 1);
    const operator = await stack.call('GET', `/api/v1/admin/tenants/${signedIn.tenantId}/billing-state`, { token: OPERATORS.ops.token, from: attacker });
    expect(operator.status).toBe(200);
    expect(fieldItems(operator, 'ratelimit-policy').operator).toEqual({ q: 1000, w: 60 });
    // A signed-in person renewing their session proves a credential: the spent anonymous ceiling does not end it.
    const renewed = await stack.call('POST', '/api/v1/auth/refresh', { body: { refreshToken: adminLogin.body.refreshToken }, from: freshAddress() });
    expect(renewed.status).toBe(200);

    // Nothing of a refused signup was written or sent; the admitted ones were, so the check could have failed.
    await Promise.all(signups.slice(0, PER_ADDRESS).map((body) => waitForMails(body.email, 1)));
    const refusedEmails = signups.slice(PER_ADDRESS).map((body) => body.email);
    expect(await countRows(stack, 'select count(*) as n from app_user where email in (?)', [refusedEmails])).toBe(0);
    expect(await countRows(stack, 'select count(*) as n from tenant where slug in (?)', [signups.slice(PER_ADDRESS).map((body) => body.orgName)])).toBe(0);
    for (const email of refusedEmails) expect(await mailsTo(email)).toEqual([]);
  });
});
