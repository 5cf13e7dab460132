import type { Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import type { Authentication } from '../auth/principal';
import { looksLikeApiKey } from '../auth/api-key-format';
import { isRefreshTokenShaped } from '../auth/refresh-token-format';
import type { BillingStateSource } from '../billing/billing-state-source';
import type { RequestBudgets } from '../db/request-budgets';
import { throttle, type Gate } from '../domain/gate-decision';
import { Limits } from '../domain/limits';
import { REQUEST_WINDOW_SECONDS, tenantRequestBudgets, type RequestPolicyName } from '../domain/request-budget';
import type { GateRecorder } from '../gates/gate-recorder';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { authenticationOf } from './auth/authentication';
import { gateProblem } from './gate-problem';
import { rateLimitHeaders, type PolicyStanding } from './rate-limit-headers';
import { RefusalMemory } from './refusal-memory';

export interface RequestLimitSettings {
  /** ANONYMOUS_RATE_LIMIT_PER_IP_PER_MINUTE: per client address, for requests without a proven credential. */
  anonymousPerAddress: number;
  /** GLOBAL_RATE_LIMIT_PER_MINUTE: all of those together; 0 turns the ceiling off. */
  anonymousCeiling: number;
  /** OPERATOR_RATE_LIMIT_PER_MINUTE: each platform operator's own bucket. */
  perOperator: number;
  /** TENANT_REQUEST_BUDGET_PERCENT: scales the plans' requests per minute. */
  tenantBudgetPercent: number;
}

export interface RequestLimitDependencies {
  budgets: RequestBudgets;
  billing: Pick<BillingStateSource, 'viewOf'>;
  settings: RequestLimitSettings;
  /** What the processes of one deployment share (the task queue), so two deployments on one database count apart. */
  scope: string;
  gates: GateRecorder;
  metrics: Metrics;
  logger: Logger;
}

/** One bucket a request is counted in, the policy the client is told about, and the gate a refusal is reported as. */
interface PlannedBucket {
  bucket: string;
  policy: RequestPolicyName;
  quota: number;
  gate: Gate;
}

/** The buckets of one request: the caller's own (narrow), and the one it shares (wide) while it is within its own. */
interface CountPlan {
  narrow: PlannedBucket;
  wide?: PlannedBucket;
  tenantId?: string;
}

const CLEAR_ENDED_EVERY_MS = 5 * 60_000;
/** Where a signed-in person renews their session: the route proves its own credential (a refresh token) in the body. */
const SESSION_REFRESH_PATH = '/api/v1/auth/refresh';

/**
 * A session renewal carries a credential the route itself proves. It is counted at its address only, never under the
 * anonymous ceiling: a flood spread over many addresses must not end every signed-in person's session within one
 * access token's lifetime. A malformed token is refused by the route before any lookup.
 */
function renewsSession(request: Request): boolean {
  const refreshToken = (request.body as { refreshToken?: unknown } | undefined)?.refreshToken;
  return request.method === 'POST' && request.originalUrl.split('?')[0] === SESSION_REFRESH_PATH && typeof refreshToken === 'string' && isRefreshTokenShaped(refreshToken);
}
const BEARER = /^\s*Bearer\s+(\S+)\s*$/i;

const REASONS: Record<RequestPolicyName, (quota: number) => string> = {
  credential: (quota) => `this credential's budget of ${quota} requests per minute is spent`,
  tenant: (quota) => `the tenant's budget of ${quota} requests per minute is spent`,
  operator: (quota) => `this operator's budget of ${quota} requests per minute is spent`,
  address: (quota) => `${quota} requests per minute without valid credentials from this address`,
  anonymous: (quota) => `the ceiling of ${quota} requests per minute without valid credentials is reached`,
};

/**
 * Request budgets, counted in Postgres so they hold across API processes, one statement per request:
 * - a tenant's caller in its credential's bucket (an API key, or one user's sessions) and its tenant's, sized by the
 *   tenant's plan;
 * - a platform operator in a bucket of their own;
 * - a request without a proven credential (none, or one that was refused) in its client address's bucket and the
 *   anonymous ceiling. Missing and refused credentials are counted in separate address buckets, so an anonymous flood
 *   does not refuse a valid API key from the same address before it is looked up.
 * No anonymous request is ever counted in a tenant's or an operator's bucket, so no flood can lock them out.
 */
export function createRequestLimits(deps: RequestLimitDependencies) {
  const { settings, scope } = deps;
  const refusals = new RefusalMemory();
  let lastClearedMs = Date.now();

  const addressOf = (request: Request) => ipKeyGenerator(request.ip ?? 'unknown');
  const anonymousCeiling = (): PlannedBucket | undefined =>
    settings.anonymousCeiling === 0 ? undefined : { bucket: `${scope}:anonymous`, policy: 'anonymous', quota: settings.anonymousCeiling, gate: 'kill_switch' };
  const addressBucket = (kind: 'anonymous' | 'refused', address: string): PlannedBucket => ({
    bucket: `${scope}:address-${kind}:${address}`,
    policy: 'address',
    quota: settings.anonymousPerAddress,
    gate: 'protection',
  });

  async function planFor(authentication: Authentication, address: string, request: Request): Promise<CountPlan> {
    if (authentication.outcome !== 'authenticated') {
      const narrow = addressBucket(authentication.outcome === 'refused' ? 'refused' : 'anonymous', address);
      return { narrow, wide: renewsSession(request) ? undefined : anonymousCeiling() };
    }
    const principal = authentication.principal;
    if (principal.kind === 'operator') {
      return { narrow: { bucket: `${scope}:operator:${principal.name}`, policy: 'operator', quota: settings.perOperator, gate: 'protection' } };
    }
    // The billing source caches each tenant's state: this is a database read once per tenant and TTL, not per request.
    const limits = (await deps.billing.viewOf(principal.tenantId))?.limits ?? Limits.trialEquivalent();
    const budgets = tenantRequestBudgets(limits, settings.tenantBudgetPercent);
    const credential = principal.kind === 'api_key' ? `api-key:${principal.keyId}` : `user:${principal.userId}`;
    return {
      narrow: { bucket: `${scope}:credential:${principal.tenantId}:${credential}`, policy: 'credential', quota: budgets.credential.quota, gate: 'protection' },
      wide: { bucket: `${scope}:tenant:${principal.tenantId}`, policy: 'tenant', quota: budgets.tenant.quota, gate: 'protection' },
      tenantId: principal.tenantId,
    };
  }

  function refuse(response: Response, planned: PlannedBucket, retryAfterSeconds: number, tenantId: string | undefined, firstSeen: boolean) {
    const decision = throttle(planned.gate, REASONS[planned.policy](planned.quota), retryAfterSeconds);
    const boundary = `request_limit:${planned.policy}`;
    // Logged and stored once per bucket and window in each process; every later refusal is only counted, so a flood
    // cannot turn into a flood of log lines and stored events.
    if (firstSeen) deps.gates.record(decision, { boundary, tenantId });
    else deps.metrics.gateDecisions.inc({ gate: decision.gate, outcome: decision.outcome, boundary });
    response.set(rateLimitHeaders([{ policy: planned.policy, quota: planned.quota, windowSeconds: REQUEST_WINDOW_SECONDS, remaining: 0, resetSeconds: retryAfterSeconds }]));
    return gateProblem(decision);
  }

  function refuseFromMemory(response: Response, plan: CountPlan): ReturnType<typeof gateProblem> | undefined {
    const planned = [plan.narrow, plan.wide].filter((bucket): bucket is PlannedBucket => bucket !== undefined);
    const remembered = refusals.refusing(planned.map((bucket) => bucket.bucket));
    if (!remembered) return undefined;
    const refusedBy = planned.find((bucket) => bucket.bucket === remembered.bucket)!;
    return refuse(response, refusedBy, Math.max(1, Math.ceil((remembered.untilMs - Date.now()) / 1000)), plan.tenantId, false);
  }

  function clearEndedWindowsNowAndThen() {
    if (Date.now() - lastClearedMs < CLEAR_ENDED_EVERY_MS) return;
    lastClearedMs = Date.now();
    deps.budgets.clearEnded().catch((error: unknown) => deps.logger.warn({ err: error }, 'clearing ended request-budget windows failed'));
  }

  /**
   * Before authentication: an API key costs a database lookup to prove, so while an address is refused for refused
   * credentials its API keys are refused unread. Session tokens and operator tokens are proven in memory and pass.
   */
  const beforeAuthentication: RequestHandler = (request, response, next) => {
    const token = BEARER.exec(request.header('authorization') ?? '')?.[1];
    if (token === undefined || !looksLikeApiKey(token)) return next();
    next(refuseFromMemory(response, { narrow: addressBucket('refused', addressOf(request)) }));
  };

  /** After authentication: counts the request in its caller's buckets and refuses it past their budgets. */
  const afterAuthentication: RequestHandler = async (request, response, next) => {
    const plan = await planFor(authenticationOf(response), addressOf(request), request);
    const remembered = refuseFromMemory(response, plan);
    if (remembered) return next(remembered);

    let counted;
    try {
      counted = await deps.budgets.countHit({ bucket: plan.narrow.bucket, windowSeconds: REQUEST_WINDOW_SECONDS }, plan.narrow.quota, plan.wide && { bucket: plan.wide.bucket, windowSeconds: REQUEST_WINDOW_SECONDS });
    } catch (error) {
      // The counters' database is the one every request needs anyway: refusing here would add nothing but a 5xx.
      deps.logger.warn({ err: error }, 'request budget not counted; request let through');
      return next();
    }
    clearEndedWindowsNowAndThen();

    const counts = [
      { planned: plan.narrow, count: counted.narrow },
      ...(plan.wide && counted.wide ? [{ planned: plan.wide, count: counted.wide }] : []),
    ];
    const standings: PolicyStanding[] = counts.map(({ planned, count }) => ({
      policy: planned.policy,
      quota: planned.quota,
      windowSeconds: REQUEST_WINDOW_SECONDS,
      remaining: planned.quota - count.hits,
      resetSeconds: Math.ceil(count.msLeft / 1000),
    }));
    const over = counts.find(({ planned, count }) => count.hits > planned.quota);
    if (!over) {
      response.set(rateLimitHeaders(standings));
      return next();
    }
    refusals.remember(over.planned.bucket, over.count.msLeft);
    next(refuse(response, over.planned, Math.max(1, Math.ceil(over.count.msLeft / 1000)), plan.tenantId, true));
  };

  return { beforeAuthentication, afterAuthentication };
}

export type RequestLimits = ReturnType<typeof createRequestLimits>;
