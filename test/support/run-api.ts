import type { Express } from 'express';
import type { Worker } from '@temporalio/worker';
import { createAccessControl, type AccessControl } from '../../src/access-control';
import { buildApp } from '../../src/api/app';
import type { Orm } from '../../src/db/orm';
import type { MembershipRole } from '../../src/domain/tenant-status';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import { createRunService, type RunService } from '../../src/services/run-service';
import { createSignupService } from '../../src/services/signup-service';
import { KNOWN_PASSWORD, OPERATORS, TEST_AUTH_SECRET, bearer, createApiKey, knownPasswordHash } from './auth';
import { createActiveTenant, type TestTenant } from './runs';
import { connectToDevServer, startWorker, testConfig, testOrm, uniqueTaskQueue, type DevServerHarness } from './stack';

export interface TenantWithKeys extends TestTenant {
  /** API keys of the tenant by role: how a machine client calls the run API. */
  keys: Record<MembershipRole, string>;
  /** The owner, signed in: the person who decides runs the keys submit (keys decide nothing by default). */
  owner: { userId: string; accessToken: string };
}

export interface RunApiHarness {
  app: Express;
  access: AccessControl;
  runs: RunService;
  temporal: DevServerHarness;
  orm: Orm;
  taskQueue: string;
  /** An active tenant with an API key for each role. */
  tenant(): Promise<TenantWithKeys>;
  close(): Promise<void>;
}

const OPERATOR_TOKENS = Object.values(OPERATORS)
  .map((operator) => `${operator.name}:${operator.role}:${operator.token}`)
  .join(',');

/** The real app with the run routes and real auth, on the dev server and Postgres, with a worker of its own. */
export async function startRunApiHarness(): Promise<RunApiHarness> {
  const temporal = await connectToDevServer();
  const orm = await testOrm();
  const taskQueue = uniqueTaskQueue('runs-api');
  const metrics = createMetrics();
  const worker: Worker = await startWorker({ connection: temporal.connection, taskQueue, orm, metrics });
  const workerRun = worker.run();
  const runs = createRunService({ client: temporal.client, orm, taskQueue });
  const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, AUTH_TOKEN_SECRET: TEST_AUTH_SECRET, OPERATOR_TOKENS, HOSTED_MODE: 'false' });
  const logger = createLogger('silent');
  const access = createAccessControl({ config, orm, logger, metrics, rateLimitScope: uniqueTaskQueue('limits') });
  const app = buildApp({
    logger,
    metrics,
    signups: createSignupService({ client: temporal.client, taskQueue }),
    readiness: {},
    hostedMode: false,
    signupRatePerHour: 1000,
    orm,
    access,
    runs,
  });
  return {
    app,
    access,
    runs,
    temporal,
    orm,
    taskQueue,
    async tenant() {
      const tenant = await createActiveTenant(orm, { passwordHash: await knownPasswordHash() });
      const keys = {} as Record<MembershipRole, string>;
      for (const role of ['owner', 'admin', 'member', 'viewer'] as const) keys[role] = (await createApiKey(access, tenant.tenantId, role)).key;
      // A real sign-in: a session is tied to its login (sid) and the member's session generation.
      const signedIn = await access.auth.login({ email: tenant.ownerEmail, password: KNOWN_PASSWORD, tenantId: tenant.tenantId });
      if (signedIn.kind !== 'issued') throw new Error(`owner sign-in answered ${signedIn.kind}`);
      return { ...tenant, keys, owner: { userId: signedIn.session.userId, accessToken: signedIn.session.accessToken } };
    },
    async close() {
      worker.shutdown();
      await workerRun;
      await temporal.close();
      await orm.close(true);
    },
  };
}

export const asOwner = (tenant: TenantWithKeys) => bearer(tenant.keys.owner);
/** The owner's session: a person, not the keys that submit, so four eyes lets them decide. */
export const asOwnerSession = (tenant: TenantWithKeys) => bearer(tenant.owner.accessToken);
export const asRole = (tenant: TenantWithKeys, role: MembershipRole) => bearer(tenant.keys[role]);
/** A founder: every operator route, force-complete included. */
export const asOperator = bearer(OPERATORS.founder.token);
export const OPERATOR_ACTOR = `operator:${OPERATORS.founder.name}`;
