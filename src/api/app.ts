import express, { type Express } from 'express';
import type { AccessControl } from '../access-control';
import type { Orm } from '../db/orm';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { AccountServices } from '../services/accounts';
import type { LifecycleService } from '../services/lifecycle-service';
import { createPolicyService } from '../services/policy-service';
import type { RunService } from '../services/run-service';
import { DEFAULT_RETENTION_FLOOR_DAYS } from '../domain/lifecycle';
import type { SignupService } from '../services/signup-service';
import { authenticate, createRouteDeclarer, createTenantGuard } from './auth';
import { ApiCatalog } from './openapi';
import { errorHandler, notFoundHandler, requireJsonBody } from './error-handler';
import { requestDeadline, type RequestDeadlineOptions } from './request-deadline';
import { readOnlyGuard } from './kill-switches';
import { accountRoutes } from './routes/accounts';
import { adminAccountRoutes } from './routes/admin-accounts';
import { adminBillingStateRoutes } from './routes/admin-billing-state';
import { adminEventRoutes } from './routes/admin-events';
import { adminRunRoutes } from './routes/admin-runs';
import { adminSignupRoutes } from './routes/admin-signups';
import { adminTenantRoutes } from './routes/admin-tenants';
import { apiKeyRoutes } from './routes/api-keys';
import { authRoutes } from './routes/auth';
import { metricsRoutes } from './routes/operations';
import { healthRoutes, type ReadinessCheck } from './routes/health';
import { linkPageRoutes } from './routes/link-pages';
import { policyRoutes } from './routes/policies';
import { runRoutes } from './routes/runs';
import { signupRoutes } from './routes/signup';
import { teamRoutes } from './routes/team';
import { tenantLimitRoutes } from './routes/tenant-limits';

export interface AppDependencies {
  logger: Logger;
  metrics: Metrics;
  signups: SignupService;
  readiness: Record<string, ReadinessCheck>;
  hostedMode: boolean;
  signupRatePerHour: number;
  /** Extra Prometheus text appended to /metrics (the Temporal SDK's worker metrics when this process runs a worker). */
  extraMetrics?: () => Promise<string>;
  /** Authentication, gates, auth/API-key/billing services and kill switches (src/access-control.ts). */
  access: AccessControl;
  /** Hops of reverse proxies in front of the API, so rate limits key on the client's address, not the proxy's. */
  trustProxy?: number;
  /** Read by the query-only operator routes (events, watch lists). */
  orm: Orm;
  /** The run kernel's service; without it the run routes are not mounted (tests of other areas). */
  runs?: RunService;
  /** Tenant lifecycle steering; without it the admin tenant routes are not mounted (tests of other areas). */
  lifecycle?: LifecycleService;
  /** Hours an onboarding may rest before the stalled-onboardings watch lists it. */
  onboardingStallHours?: number;
  /** TENANT_RETENTION_FLOOR_DAYS: a soft delete below it takes the terminate role. */
  retentionFloorDays?: number;
  /** The URL clients reach the API at (PUBLIC_BASE_URL), named in /openapi.json; unset, the URL a request came to. */
  publicBaseUrl?: string;
  /** Verification, password reset, invitations and members; without it those routes are not mounted (tests of other areas). */
  accounts?: AccountServices;
  /** Every request is answered within this (503 with Retry-After past it); 10 s when absent. */
  requestDeadlineSeconds?: number;
  /** The process's Temporal connection: calls made for a request share its deadline. */
  temporal?: RequestDeadlineOptions['temporal'];
}

const BODY_LIMIT = '16kb';

/** Builds the Express app without listening: tests import it, the entry point listens. */
export function buildApp(deps: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  // A hop count, never `true`: trusting every X-Forwarded-For would let a client pick its own rate-limit key.
  app.set('trust proxy', deps.trustProxy ?? 0);
  app.use((request, response, next) => {
    const end = deps.metrics.httpDuration.startTimer();
    response.on('finish', () => {
      // The route template, never the raw path: raw paths carry ids and would explode the label set.
      const route = request.route?.path ? `${request.baseUrl}${request.route.path}` : 'unmatched';
      end({ method: request.method, route, status: String(response.statusCode) });
    });
    next();
  });
  app.use(requireJsonBody);
  app.use(express.json({ limit: BODY_LIMIT, strict: true }));
  // After the body is read (a slow upload is Node's 408, not an outage), before anything that waits on a dependency.
  app.use(requestDeadline({ deadlineMs: (deps.requestDeadlineSeconds ?? 10) * 1000, temporal: deps.temporal, onTimeout: () => deps.metrics.dependencyUnavailable.inc({ dependency: 'timeout' }) }));

  const { access } = deps;
  const catalog = new ApiCatalog();
  const route = createRouteDeclarer(createTenantGuard(access.gates), catalog);

  app.use(healthRoutes(deps.readiness, route));
  app.use(metricsRoutes({ metrics: deps.metrics, extraMetrics: deps.extraMetrics }, route));
  const operational = express.Router();
  route(operational, {
    method: 'get',
    path: '/openapi.json',
    auth: 'public',
    docs: { summary: 'This document: OpenAPI 3.1 generated from the zod schemas that validate requests', tags: ['operations'] },
    handler: (request, response) => {
      // Unset, the API is where this request reached it (a Host-less HTTP/1.0 request gets the relative "/").
      const ownUrl = request.host ? `${request.protocol}://${request.host}` : '/';
      response.json(catalog.document({ serverUrl: deps.publicBaseUrl ?? ownUrl }));
    },
  });
  app.use(operational);
  // Cheapest refusal first: an address refused for refused credentials has its API keys refused before any lookup.
  app.use('/api', access.requestLimits.beforeAuthentication);
  app.use('/api', authenticate(access.authenticator, deps.logger));
  // Counted once the caller is known: each in its own buckets, and anonymous traffic never in a tenant's or operator's.
  app.use('/api', access.requestLimits.afterAuthentication);
  app.use('/api', readOnlyGuard(access.killSwitches, access.gates));

  // Outside hosted mode the public signup does not exist at all: the catch-all 404 answers it.
  if (deps.hostedMode) {
    app.use(signupRoutes({ signups: deps.signups, metrics: deps.metrics, ratePerHour: deps.signupRatePerHour, switches: access.killSwitches, gates: access.gates, stores: access.rateLimitStores, route }));
  }
  app.use(authRoutes({ auth: access.auth, route, metrics: deps.metrics, credentials: access.credentialThrottle }));
  app.use(apiKeyRoutes({ apiKeys: access.apiKeys, route }));
  app.use(tenantLimitRoutes({ billing: access.billing, platform: access.platformCeilings, route }));
  app.use(adminBillingStateRoutes({ billingStates: access.billingStates, route }));
  app.use(adminEventRoutes({ orm: deps.orm, route }));
  app.use(adminSignupRoutes({ signups: deps.signups, route }));
  app.use(policyRoutes({ policies: createPolicyService({ orm: deps.orm }), route }));

  if (deps.accounts) {
    app.use(accountRoutes({ accounts: deps.accounts, route, stores: access.rateLimitStores, gates: access.gates, credentials: access.credentialThrottle }));
    app.use(teamRoutes({ accounts: deps.accounts, orm: deps.orm, route, stores: access.rateLimitStores, gates: access.gates }));
    app.use(adminAccountRoutes({ accounts: deps.accounts, orm: deps.orm, route }));
    app.use(linkPageRoutes({ productName: deps.accounts.productName, route }));
  }
  if (deps.lifecycle) {
    app.use(adminTenantRoutes({ lifecycle: deps.lifecycle, stallHours: deps.onboardingStallHours ?? 72, retentionFloorDays: deps.retentionFloorDays ?? DEFAULT_RETENTION_FLOOR_DAYS, route }));
  }
  if (deps.runs) {
    app.use(runRoutes({ runs: deps.runs, admit: access.runAdmission, route }));
    app.use(adminRunRoutes({ runs: deps.runs, route }));
  }

  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger, deps.metrics));
  return app;
}
