import request from 'supertest';
import { secretHash } from '../../src/auth/secret-hash';
import type { Orm } from '../../src/db/orm';
import { bearer, buildTestApp, expiredAccessToken, KNOWN_PASSWORD, login, provisionTeam, tenantWorld, type TestApp, type TestTenant } from '../support/auth';
import { testOrm } from '../support/stack';

let orm: Orm;
let subject: TestApp;
let team: TestTenant;

beforeAll(async () => {
  orm = await testOrm();
  subject = await buildTestApp(orm, { env: { LOGIN_FAILURES_PER_IP: '100000' } });
  team = await provisionTeam(orm);
});
afterAll(async () => {
  await subject.close();
  await orm.close(true);
});

const limitsPath = (tenantId: string) => `/api/v1/tenants/${tenantId}/limits`;

describe('login', () => {
  it('gives a short-lived access token that works and a refresh token stored only as its hash', async () => {
    const response = await request(subject.app).post('/api/v1/auth/login').send({ email: team.members.owner.email, password: KNOWN_PASSWORD });
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, tenantId: team.tenantId, userId: team.members.owner.userId });
    expect(response.body.refreshToken).toMatch(/^cp_rt_/);

    const stored = await orm.em.fork().execute('select token_hash from refresh_token where user_id = ?', [team.members.owner.userId]);
    expect(stored.map((row) => row.token_hash)).toContain(secretHash(response.body.refreshToken));
    const anywhere = await orm.em.fork().execute(`select count(*) from refresh_token where row_to_json(refresh_token)::text like ?`, [`%${response.body.refreshToken}%`]);
    expect(Number(anywhere[0].count)).toBe(0);

    const limits = await request(subject.app).get(limitsPath(team.tenantId)).set(bearer(response.body.accessToken));
    expect(limits.status).toBe(200);
    expect(limits.body).toMatchObject({ plan: 'trial', subscriptionState: 'trial', limits: { runsPerDay: 100 } });
  });

  it('answers a wrong password, an unknown email and a tenant the user is not in with the same 401', async () => {
    const other = await provisionTeam(orm);
    const attempts = [
      { email: team.members.owner.email, password: 'Wrong-Password-123' },
      { email: `nobody-${team.slug}@example.com`, password: KNOWN_PASSWORD },
      { email: team.members.owner.email, password: KNOWN_PASSWORD, tenantId: other.tenantId },
    ];
    const answers = [];
    for (const attempt of attempts) {
      const response = await request(subject.app).post('/api/v1/auth/login').send(attempt);
      answers.push({ status: response.status, type: response.headers['content-type'], title: response.body.title, detail: response.body.detail });
    }
    expect(answers[0]).toEqual({ status: 401, type: expect.stringMatching(/problem\+json/), title: 'Invalid credentials', detail: 'The email or password is incorrect.' });
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
  });

  it('spends as long on an unknown email as on a wrong password (a dummy hash is verified)', async () => {
    const median = async (email: string) => {
      const durations: number[] = [];
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const started = process.hrtime.bigint();
        await request(subject.app).post('/api/v1/auth/login').send({ email, password: 'Wrong-Password-123' });
        durations.push(Number(process.hrtime.bigint() - started) / 1e6);
      }
      return durations.sort((a, b) => a - b)[1]!;
    };
    const known = await median(team.members.viewer.email);
    const unknown = await median(`ghost-${team.slug}@example.com`);
    // scrypt dominates both; without the dummy verification the unknown email would answer in a few milliseconds.
    expect(unknown).toBeGreaterThan(known * 0.4);
  });

  it('locks an account at a client after its failed logins, for real and made-up emails alike, and holds even the right password there', async () => {
    const limited = await buildTestApp(orm, { env: { LOGIN_FAILURES_PER_CLIENT_ACCOUNT: '3', LOGIN_FAILURES_PER_IP: '100000' } });
    try {
      const failThrice = async (email: string) => {
        for (let attempt = 0; attempt < 3; attempt += 1) {
          expect((await request(limited.app).post('/api/v1/auth/login').send({ email, password: 'Wrong-Password-123' })).status).toBe(401);
        }
        return request(limited.app).post('/api/v1/auth/login').send({ email, password: 'Wrong-Password-123' });
      };
      const real = await failThrice(team.members.member.email);
      const madeUp = await failThrice(`ghost2-${team.slug}@example.com`);
      for (const response of [real, madeUp]) {
        expect(response.status).toBe(429);
        expect(response.headers['content-type']).toMatch(/problem\+json/);
        expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
        expect(response.body).toMatchObject({ gate: 'protection', outcome: 'throttle', reason: 'too many failed sign-ins; try again later' });
      }
      expect(madeUp.body.detail).toBe(real.body.detail);
      const rightPassword = await request(limited.app).post('/api/v1/auth/login').send({ email: team.members.member.email, password: KNOWN_PASSWORD });
      expect(rightPassword.status).toBe(429);
      // Another account from the same address is unaffected.
      expect((await request(limited.app).post('/api/v1/auth/login').send({ email: team.members.admin.email, password: KNOWN_PASSWORD })).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('rate-limits failed logins per client address across accounts', async () => {
    const limited = await buildTestApp(orm, { env: { LOGIN_FAILURES_PER_CLIENT_ACCOUNT: '100', LOGIN_FAILURES_PER_ACCOUNT: '100', LOGIN_FAILURES_PER_IP: '4' } });
    try {
      const statuses = [];
      for (let attempt = 0; attempt < 5; attempt += 1) {
        statuses.push((await request(limited.app).post('/api/v1/auth/login').send({ email: `spray-${attempt}-${team.slug}@example.com`, password: 'Wrong-Password-123' })).status);
      }
      expect(statuses).toEqual([401, 401, 401, 401, 429]);
    } finally {
      await limited.close();
    }
  });

  it('lets a successful login clear the failures of the account at that client', async () => {
    const limited = await buildTestApp(orm, { env: { LOGIN_FAILURES_PER_CLIENT_ACCOUNT: '2', LOGIN_FAILURES_PER_IP: '100000' } });
    try {
      const email = team.members.viewer.email;
      expect((await request(limited.app).post('/api/v1/auth/login').send({ email, password: 'Wrong-Password-123' })).status).toBe(401);
      expect((await request(limited.app).post('/api/v1/auth/login').send({ email, password: KNOWN_PASSWORD })).status).toBe(200);
      expect((await request(limited.app).post('/api/v1/auth/login').send({ email, password: 'Wrong-Password-123' })).status).toBe(401);
      expect((await request(limited.app).post('/api/v1/auth/login').send({ email, password: KNOWN_PASSWORD })).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe('access tokens', () => {
  it('refuses an expired, a tampered and an alg=none token with the same 401', async () => {
    const session = await login(subject.app, team.members.owner.email);
    const [header, payload] = session.accessToken.split('.');
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), tid: team.tenantId, sub: team.members.viewer.userId })).toString('base64url')}.${session.accessToken.split('.')[2]}`;
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.x`;
    for (const token of [await expiredAccessToken(team.members.owner, team.tenantId), tampered, none]) {
      const response = await request(subject.app).get(limitsPath(team.tenantId)).set(bearer(token));
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toContain('error="invalid_token"');
    }
  });

  it('takes a demotion into account at once: the role is read per request, not from the token', async () => {
    const other = await provisionTeam(orm);
    const session = await login(subject.app, other.members.admin.email);
    const create = () => request(subject.app).post(`/api/v1/tenants/${other.tenantId}/api-keys`).set(bearer(session.accessToken)).send({ name: 'ci', role: 'member' });
    expect((await create()).status).toBe(201);
    await orm.em.fork().execute('update tenant_membership set role = ? where user_id = ? and tenant_id = ?', ['viewer', other.members.admin.userId, other.tenantId]);
    expect((await create()).status).toBe(403);
    await orm.em.fork().execute('delete from tenant_membership where user_id = ? and tenant_id = ?', [other.members.admin.userId, other.tenantId]);
    expect((await request(subject.app).get(limitsPath(other.tenantId)).set(bearer(session.accessToken))).status).toBe(401);
    expect((await request(subject.app).post('/api/v1/auth/refresh').send({ refreshToken: session.refreshToken })).status).toBe(401);
  });
});

describe('refresh tokens', () => {
  it('rotate on every use: the new pair works, the old refresh token does not', async () => {
    const session = await login(subject.app, team.members.member.email);
    const rotated = await request(subject.app).post('/api/v1/auth/refresh').send({ refreshToken: session.refreshToken });
    expect(rotated.status).toBe(200);
    expect(rotated.body.refreshToken).not.toBe(session.refreshToken);
    expect((await request(subject.app).get(limitsPath(team.tenantId)).set(bearer(rotated.body.accessToken))).status).toBe(200);
    const again = await request(subject.app).post('/api/v1/auth/refresh').send({ refreshToken: rotated.body.refreshToken });
    expect(again.status).toBe(200);
  });

  it('treat a spent token presented again as theft: the whole login is revoked and audited', async () => {
    const session = await login(subject.app, team.members.member.email);
    const rotated = await request(subject.app).post('/api/v1/auth/refresh').send({ refreshToken: session.refreshToken });
    expect(rotated.status).toBe(200);
    const replay = await request(subject.app).post('/api/v1/auth/refresh').send({ refreshToken: session.refreshToken });
    expect(replay.status).toBe(401);
    expect((await request(subject.app).post('/api/v1/auth/refresh').send({ refreshToken: rotated.body.refreshToken })).status).toBe(401);
    const audit = await orm.em.fork().execute(`select action, actor from audit_event where tenant_id = ? and action = 'auth.refresh_reuse_detected' and entity_id = ?`, [team.tenantId, team.members.member.userId]);
    expect(audit.length).toBeGreaterThanOrEqual(1);
  });

  it('are revoked by logout, and logout of an unknown token says nothing different', async () => {
    const session = await login(subject.app, team.members.viewer.email);
    expect((await request(subject.app).post('/api/v1/auth/logout').send({ refreshToken: session.refreshToken })).status).toBe(204);
    expect((await request(subject.app).post('/api/v1/auth/refresh').send({ refreshToken: session.refreshToken })).status).toBe(401);
    expect((await request(subject.app).post('/api/v1/auth/logout').send({ refreshToken: `cp_rt_${'A'.repeat(43)}` })).status).toBe(204);
  });

  it('stop working once expired, and the refused refresh changes nothing', async () => {
    const session = await login(subject.app, team.members.viewer.email);
    await orm.em.fork().execute(`update refresh_token set expires_at = now() - interval '1 second' where token_hash = ?`, [secretHash(session.refreshToken)]);
    const before = await tenantWorld(orm, [team.tenantId]);
    expect((await request(subject.app).post('/api/v1/auth/refresh').send({ refreshToken: session.refreshToken })).status).toBe(401);
    expect(await tenantWorld(orm, [team.tenantId])).toEqual(before);
  });
});
