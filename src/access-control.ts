import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { createAccessTokens } from './auth/access-token';
import { createApiKeyUsage } from './auth/api-key-usage';
import { createAuthenticator } from './auth/authenticator';
import { createDeviceCookies } from './auth/device-cookie';
import { createOperatorRegistry } from './auth/operator-tokens';
import { createBillingStateSource } from './billing/billing-state-source';
import { createPostgresBillingStateStore, type BillingStateStore } from './billing/billing-state-store';
import type { Config } from './config';
import type { Orm } from './db/orm';
import { createGateRecorder } from './gates/gate-recorder';
import { killSwitchesFrom } from './gates/kill-switch-gate';
import type { PlatformCeilings } from './gates/protection-gate';
import type { Logger } from './observability/logger';
import type { EventSink } from './observability/event-sink';
import type { Metrics } from './observability/metrics';
import { createApiKeyService } from './services/api-key-service';
import { createAuthService } from './services/auth-service';
import { createBillingStateService } from './services/billing-state-service';
import { restartBillingTrial } from './services/billing-trial-starter';
import { createRunAdmission } from './services/run-admission';
import { createCredentialThrottle } from './api/credential-throttle';
import { postgresRateLimitStores } from './api/rate-limit-store';
import { createRequestLimits } from './api/request-limits';
import { createRequestBudgets } from './db/request-budgets';
import { unverifiedLimitsOf } from './services/accounts/settings';

export interface AccessControlDependencies {
  config: Config;
  orm: Orm;
  logger: Logger;
  metrics: Metrics;
  /** Where gate decisions are stored for the operators' watch lists; without it they are only logged and counted. */
  events?: EventSink;
  /**
   * The process's Temporal client: an operator who sets billing back to trial restarts the trial timer through it.
   * Without it (tests of other areas) the new trial end date is set and audited, and no timer runs.
   */
  client?: Client;
  /** Defaults to Postgres; tests wrap it to make the store fail. */
  billingStore?: BillingStateStore;
  now?: () => Date;
  /**
   * Which counters the rate limits share: by default the task queue, which every process of one deployment has in
   * common. Tests give each app a scope of its own, as separate deployments would have.
   */
  rateLimitScope?: string;
}

/**
 * Everything that decides who may do what, built once per process from config: authentication, the gates' recorder,
 * the auth, API-key and billing services, the kill switches and the platform ceilings.
 */
export function createAccessControl(deps: AccessControlDependencies) {
  const { config } = deps;
  let secret = config.AUTH_TOKEN_SECRET;
  if (secret === undefined) {
    // Outside production only (config refuses it there): sessions end when this process does.
    secret = randomBytes(32).toString('base64url');
    deps.logger.warn('AUTH_TOKEN_SECRET is unset: using a per-process secret, sessions will not survive a restart');
  }
  const gates = createGateRecorder(deps);
  const accessTokens = createAccessTokens({ secret, ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS, now: deps.now });
  const billing = createBillingStateSource({
    store: deps.billingStore ?? createPostgresBillingStateStore(deps.orm),
    ttlMs: config.BILLING_CACHE_TTL_SECONDS * 1000,
    maxStalenessMs: config.BILLING_MAX_STALENESS_SECONDS * 1000,
    now: deps.now,
    logger: deps.logger,
    metrics: deps.metrics,
  });
  const platformCeilings: PlatformCeilings = {
    burstPerMinute: config.TENANT_RUN_BURST_PER_MINUTE,
    runsPerDay: config.TENANT_RUN_CEILING_PER_DAY,
    concurrentRuns: config.TENANT_CONCURRENT_RUN_CEILING,
  };
  const killSwitches = killSwitchesFrom(config);
  const rateLimitScope = deps.rateLimitScope ?? config.TEMPORAL_TASK_QUEUE;
  return {
    gates,
    accessTokens,
    authenticator: createAuthenticator({
      orm: deps.orm,
      accessTokens,
      operators: createOperatorRegistry(config.OPERATOR_TOKENS),
      apiKeyUsage: createApiKeyUsage({ orm: deps.orm, now: deps.now, onError: (error) => deps.logger.warn({ err: error }, 'recording an API key use failed') }),
      now: deps.now,
    }),
    auth: createAuthService({ orm: deps.orm, accessTokens, gates, refreshTokenTtlDays: config.REFRESH_TOKEN_TTL_DAYS, now: deps.now }),
    apiKeys: createApiKeyService({ orm: deps.orm, gates, now: deps.now, unverified: unverifiedLimitsOf(config) }),
    billing,
    billingStates: createBillingStateService({
      orm: deps.orm,
      source: billing,
      now: deps.now,
      trialTimer: deps.client ? { restart: async (tenantId) => void (await restartBillingTrial(deps.client!, { tenantId, taskQueue: config.TEMPORAL_TASK_QUEUE })) } : undefined,
    }),
    killSwitches,
    platformCeilings,
    runAdmission: createRunAdmission({ billing, gates, switches: killSwitches, platform: platformCeilings, unverified: unverifiedLimitsOf(config) }),
    rateLimitStores: postgresRateLimitStores(deps.orm, rateLimitScope),
    requestLimits: createRequestLimits({
      budgets: createRequestBudgets(deps.orm),
      billing,
      settings: {
        anonymousPerAddress: config.ANONYMOUS_RATE_LIMIT_PER_IP_PER_MINUTE,
        anonymousCeiling: config.GLOBAL_RATE_LIMIT_PER_MINUTE,
        perOperator: config.OPERATOR_RATE_LIMIT_PER_MINUTE,
        tenantBudgetPercent: config.TENANT_REQUEST_BUDGET_PERCENT,
      },
      scope: rateLimitScope,
      gates,
      metrics: deps.metrics,
      logger: deps.logger,
    }),
    credentialThrottle: createCredentialThrottle({
      orm: deps.orm,
      scope: rateLimitScope,
      gates,
      devices: createDeviceCookies({ authTokenSecret: secret, now: deps.now }),
      now: deps.now,
      limits: {
        failuresPerClientAccount: config.LOGIN_FAILURES_PER_CLIENT_ACCOUNT,
        failuresPerAccount: config.LOGIN_FAILURES_PER_ACCOUNT,
        failuresPerClient: config.LOGIN_FAILURES_PER_IP,
        windowMinutes: config.LOGIN_FAILURE_WINDOW_MINUTES,
        firstLockSeconds: config.LOGIN_LOCKOUT_SECONDS,
      },
    }),
  };
}

export type AccessControl = ReturnType<typeof createAccessControl>;
