import { Router, type Request } from 'express';
import { ipKeyGenerator, rateLimit, type RateLimitInfo } from 'express-rate-limit';
import { throttle } from '../../domain/gate-decision';
import type { GateRecorder } from '../../gates/gate-recorder';
import type { Metrics } from '../../observability/metrics';
import type { AuthService, IssuedSession, SessionOutcome } from '../../services/auth-service';
import { tenantPrincipalOf, type RouteDeclarer } from '../auth';
import { gateProblem } from '../gate-problem';
import { Problem, parseOr400 } from '../problem';
import { loginRequestSchema, refreshTokenRequestSchema, sessionResponseSchema } from '../schemas/auth';
import type { RateLimitStores } from '../rate-limit-store';

export interface LoginLimits {
  windowMinutes: number;
  failuresPerAccount: number;
  failuresPerIp: number;
}

export interface AuthRouteOptions {
  auth: AuthService;
  route: RouteDeclarer;
  metrics: Metrics;
  gates: GateRecorder;
  loginLimits: LoginLimits;
  /** Shared by every API process, so N processes do not allow N times the failures. */
  stores: RateLimitStores;
}

/** The attempted account, whether or not it exists: keying on it treats real and made-up emails alike. */
const accountKey = (request: Request) => {
  const email = (request.body as { email?: unknown } | undefined)?.email;
  return `account:${typeof email === 'string' ? email.trim().toLowerCase().slice(0, 320) : ''}`;
};

/** What issuing a session can answer besides one: wrong secret, or a gate that refuses the tenant (suspended, offboarded). */
const SESSION_REFUSALS = {
  401: { description: 'The email and password, or the refresh token, are not valid' },
  403: { description: 'A gate refuses a session for this tenant now: `gate` and `reason` say why' },
};

const sessionBody = (session: IssuedSession) => ({ tokenType: 'Bearer' as const, ...session });

export function authRoutes(options: AuthRouteOptions): Router {
  const router = Router();
  const windowMs = options.loginLimits.windowMinutes * 60_000;

  // Only failures count (skipSuccessfulRequests), per client address and per attempted account; the same 429 for both.
  const failedLoginLimit = (name: string, limit: number, keyGenerator: (request: Request) => string) =>
    rateLimit({
      windowMs,
      limit,
      keyGenerator,
      store: options.stores(name),
      skipSuccessfulRequests: true,
      requestPropertyName: name,
      standardHeaders: false,
      legacyHeaders: false,
      handler: (request, _response, next) => {
        options.metrics.logins.inc({ outcome: 'rate_limited' });
        const resetAt = (request as Request & Record<string, RateLimitInfo | undefined>)[name]?.resetTime?.getTime() ?? Date.now() + windowMs;
        const decision = throttle('protection', 'too many failed sign-ins; try again later', Math.max(1, Math.ceil((resetAt - Date.now()) / 1000)));
        options.gates.record(decision, { boundary: 'login' });
        next(gateProblem(decision));
      },
    });
  const perAddress = failedLoginLimit('loginAddressLimit', options.loginLimits.failuresPerIp, (request) => `address:${ipKeyGenerator(request.ip ?? 'unknown')}`);
  const perAccount = failedLoginLimit('loginAccountLimit', options.loginLimits.failuresPerAccount, accountKey);

  const answer = (outcome: SessionOutcome, invalid: () => Problem) => {
    if (outcome.kind === 'refused') return gateProblem(outcome.decision);
    if (outcome.kind === 'invalid') return invalid();
    return undefined;
  };

  options.route(router, {
    method: 'post',
    path: '/api/v1/auth/login',
    auth: 'public',
    docs: { summary: 'Log in with email and password: a short-lived access token and a refresh token', tags: ['auth'], body: loginRequestSchema, responses: { 200: { description: 'A session', schema: sessionResponseSchema }, ...SESSION_REFUSALS } },
    before: [perAddress, perAccount],
    handler: async (request, response) => {
      const body = parseOr400(loginRequestSchema, request.body);
      const outcome = await options.auth.login(body);
      const problem = answer(outcome, () => new Problem(401, 'Invalid credentials', 'The email or password is incorrect.'));
      options.metrics.logins.inc({ outcome: outcome.kind === 'issued' ? 'success' : outcome.kind });
      if (problem) throw problem;
      if (outcome.kind !== 'issued') return;
      // A success clears the account's failures: the owner who finally typed it right starts afresh.
      await perAccount.resetKey(accountKey(request));
      response.set('Cache-Control', 'no-store').json(sessionBody(outcome.session));
    },
  });

  options.route(router, {
    method: 'post',
    path: '/api/v1/auth/refresh',
    auth: 'public',
    docs: { summary: 'Rotate a refresh token for a new session (a lifecycle gate boundary)', tags: ['auth'], body: refreshTokenRequestSchema, responses: { 200: { description: 'A new session', schema: sessionResponseSchema }, ...SESSION_REFUSALS } },
    handler: async (request, response) => {
      const { refreshToken } = parseOr400(refreshTokenRequestSchema, request.body);
      const outcome = await options.auth.refresh(refreshToken);
      const problem = answer(outcome, () => new Problem(401, 'Invalid refresh token', 'The refresh token is unknown, expired or already used; sign in again.'));
      if (problem) throw problem;
      if (outcome.kind !== 'issued') return;
      response.set('Cache-Control', 'no-store').json(sessionBody(outcome.session));
    },
  });

  options.route(router, {
    method: 'post',
    path: '/api/v1/auth/logout',
    auth: 'public',
    docs: { summary: 'Revoke the login a refresh token belongs to', tags: ['auth'], body: refreshTokenRequestSchema, responses: { 204: { description: 'Revoked (or unknown)' } } },
    handler: async (request, response) => {
      const { refreshToken } = parseOr400(refreshTokenRequestSchema, request.body);
      await options.auth.logout(refreshToken);
      response.status(204).end();
    },
  });

  options.route(router, {
    method: 'post',
    path: '/api/v1/auth/logout-everywhere',
    auth: 'tenant:sessions:end',
    docs: { summary: "End every session of the signed-in person in this tenant (every device's access and refresh tokens), this one included", tags: ['auth'], responses: { 204: { description: 'Every session ended' } } },
    handler: async (_request, response) => {
      const caller = tenantPrincipalOf(response);
      // sessions:end is session-only: the caller is a person.
      if (caller.kind !== 'user') throw new Problem(403, 'Session required', 'Only a signed-in person has sessions to end.');
      await options.auth.logoutEverywhere({ userId: caller.userId, tenantId: caller.tenantId });
      response.status(204).end();
    },
  });

  return router;
}
