import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { Express } from 'express';
import request from 'supertest';
import { createAccessControl, type AccessControl } from '../../src/access-control';
import { buildApp } from '../../src/api/app';
import { createAccessTokens } from '../../src/auth/access-token';
import { hashPassword } from '../../src/auth/password-hash';
import type { BillingStateStore } from '../../src/billing/billing-state-store';
import type { Config } from '../../src/config';
import type { Orm } from '../../src/db/orm';
import type { MembershipRole, TenantStatus } from '../../src/domain/tenant-status';
import type { EventSink } from '../../src/observability/event-sink';
import { createLogger } from '../../src/observability/logger';
import { createMetrics, type Metrics } from '../../src/observability/metrics';
import { createAccountServices } from '../../src/services/accounts';
import { createLifecycleService } from '../../src/services/lifecycle-service';
import { createRunService } from '../../src/services/run-service';
import { createSignupService } from '../../src/services/signup-service';
import { createActiveTenant } from './runs';
import { testConfig, testTemporalAddress, uniqueTaskQueue } from './stack';

export const TEST_AUTH_SECRET = 'test-secret-test-secret-test-secret-0123456789';
/** Mixed case and digits, so it passes the password policy. */
export const KNOWN_PASSWORD = 'Correct-Horse-Battery-9';

export const OPERATORS = {
  founder: { name: 'ada', role: 'founder', token: 'op-founder-0123456789abcdef0123456789abcdef' },
  ops: { name: 'grace', role: 'ops', token: 'op-ops-0123456789abcdef0123456789abcdef012' },
} as const;

const OPERATOR_TOKENS = Object.values(OPERATORS)
  .map((operator) => `${operator.name}:${operator.role}:${operator.token}`)
  .join(',');

export interface TestApp {
  app: Express;
  access: AccessControl;
  metrics: Metrics;
  config: Config;
  client: Client;
  close(): Promise<void>;
}

/** The real app on the real test database, with config overrides (kill switches, limits) as the environment would set them. */
export async function buildTestApp(orm: Orm, options: { env?: Record<string, string>; billingStore?: BillingStateStore; now?: () => Date; events?: EventSink } = {}): Promise<TestApp> {
  const config = testConfig({ AUTH_TOKEN_SECRET: TEST_AUTH_SECRET, OPERATOR_TOKENS, ...options.env });
  const logger = createLogger('silent');
  const metrics = createMetrics();
  // Lazy: connects on first use, so suites that never sign up never open a connection.
  const connection = Connection.lazy({ address: testTemporalAddress() });
  const client = new Client({ connection });
  const access = createAccessControl({ config, orm, logger, metrics, client, billingStore: options.billingStore, now: options.now, events: options.events, rateLimitScope: uniqueTaskQueue('limits') });
  const app = buildApp({
    logger,
    metrics,
    signups: createSignupService({ client, taskQueue: config.TEMPORAL_TASK_QUEUE }),
    readiness: {},
    hostedMode: config.HOSTED_MODE,
    signupRatePerHour: config.SIGNUP_RATE_LIMIT_PER_HOUR,
    orm,
    access,
    runs: createRunService({ client, orm, taskQueue: config.TEMPORAL_TASK_QUEUE }),
    lifecycle: createLifecycleService({ client, orm, taskQueue: config.TEMPORAL_TASK_QUEUE, retentionDays: config.TENANT_RETENTION_DAYS }),
    onboardingStallHours: config.ONBOARDING_STALL_HOURS,
      retentionFloorDays: config.TENANT_RETENTION_FLOOR_DAYS,
    accounts: createAccountServices({ client, orm, config, now: options.now }),
  });
  return { app, access, metrics, config, client, close: () => connection.close() };
}

let knownHash: Promise<string> | undefined;
/** One real scrypt hash per test process: the salt makes it valid for any user, and hashing is the slow part. */
export const knownPasswordHash = () => (knownHash ??= hashPassword(KNOWN_PASSWORD));

export interface TeamMember {
  userId: string;
  email: string;
  role: MembershipRole;
}

export interface TestTenant {
  tenantId: string;
  slug: string;
  members: Record<MembershipRole, TeamMember>;
}

/**
 * An active tenant made by the provisioning activities (owner with a known password), plus an admin, a member and a
 * viewer with the same password.
 */
export async function provisionTeam(orm: Orm): Promise<TestTenant> {
  const input = await createActiveTenant(orm, { passwordHash: await knownPasswordHash() });

  const em = orm.em.fork();
  const owner = (await em.execute<Array<{ id: string }>>('select id from app_user where email = ?', [input.ownerEmail]))[0]!;
  const members = { owner: { userId: owner.id, email: input.ownerEmail, role: 'owner' } } as Record<MembershipRole, TeamMember>;
  for (const role of ['admin', 'member', 'viewer'] as const) {
    const userId = randomUUID();
    const email = `${role}-${input.slug}@example.com`;
    await em.execute('insert into app_user (id, email, password_hash, created_at) values (?, ?, ?, now())', [userId, email, await knownPasswordHash()]);
    await em.execute('insert into tenant_membership (id, tenant_id, user_id, role, created_at) values (?, ?, ?, ?, now())', [randomUUID(), input.tenantId, userId, role]);
    members[role] = { userId, email, role };
  }
  return { tenantId: input.tenantId, slug: input.slug, members };
}

/** Test setup only: the lifecycle workflow owns real transitions; here a state is needed to exercise the gates. */
export async function setTenantStatus(orm: Orm, tenantId: string, status: TenantStatus): Promise<void> {
  await orm.em.fork().execute('update tenant set status = ? where id = ?', [status, tenantId]);
}

export interface Session {
  accessToken: string;
  refreshToken: string;
}

export async function login(app: Express, email: string, tenantId?: string): Promise<Session> {
  const response = await request(app)
    .post('/api/v1/auth/login')
    .send({ email, password: KNOWN_PASSWORD, ...(tenantId ? { tenantId } : {}) });
  if (response.status !== 200) throw new Error(`login of ${email} answered ${response.status}: ${JSON.stringify(response.body)}`);
  return { accessToken: response.body.accessToken, refreshToken: response.body.refreshToken };
}

/** A well-signed access token that expired a while ago. */
export async function expiredAccessToken(member: TeamMember, tenantId: string): Promise<string> {
  const issuedLongAgo = createAccessTokens({ secret: TEST_AUTH_SECRET, ttlSeconds: 60, now: () => new Date(Date.now() - 60 * 60 * 1000) });
  return (await issuedLongAgo.issue({ userId: member.userId, tenantId, generation: 0, sessionId: randomUUID() })).token;
}

export async function createApiKey(access: AccessControl, tenantId: string, role: MembershipRole): Promise<{ id: string; key: string }> {
  const outcome = await access.apiKeys.create({ tenantId, name: `${role} key`, role, actor: 'test:setup' });
  if (outcome.kind !== 'created') throw new Error(`api key not created: ${outcome.kind}`);
  return { id: outcome.apiKey.id, key: outcome.apiKey.key };
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/**
 * Everything a refused request could change for the given tenants, counted: tenant state, billing, keys, sessions,
 * memberships, policy rules, the audit trail.
 */
export async function tenantWorld(orm: Orm, tenantIds: string[]) {
  const em = orm.em.fork();
  const rows = async (sql: string) => em.execute(sql, [tenantIds]);
  return {
    tenants: await rows('select id, status, onboarding_state from tenant where id in (?) order by id'),
    billing: await rows('select tenant_id, plan, subscription_state from billing_account where tenant_id in (?) order by tenant_id'),
    apiKeys: await rows('select id, role, revoked_at from api_key where tenant_id in (?) order by id'),
    refreshTokens: await rows('select id, revoked_at from refresh_token where tenant_id in (?) order by id'),
    memberships: await rows('select id, role from tenant_membership where tenant_id in (?) order by id'),
    policyRules: await rows('select tenant_id, rule, params, active, version from policy_rule where tenant_id in (?) order by tenant_id, rule'),
    auditEvents: Number((await rows('select count(*) from audit_event where tenant_id in (?)'))[0]?.count ?? 0),
  };
}
