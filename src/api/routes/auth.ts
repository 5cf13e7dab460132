import { Router } from 'express';
import type { Metrics } from '../../observability/metrics';
import type { AuthService, IssuedSession, SessionOutcome } from '../../services/auth-service';
import { tenantPrincipalOf, type RouteDeclarer } from '../auth';
import type { CredentialThrottle } from '../credential-throttle';
import { gateProblem } from '../gate-problem';
import { Problem, parseOr400 } from '../problem';
import { loginRequestSchema, refreshTokenRequestSchema, sessionResponseSchema } from '../schemas/auth';

export interface AuthRouteOptions {
  auth: AuthService;
  route: RouteDeclarer;
  metrics: Metrics;
  /** Failed sign-ins, per client, per (account, client) and per account, shared with every route that checks a credential. */
  credentials: CredentialThrottle;
}

/** What issuing a session can answer besides one: wrong secret, or a gate that refuses the tenant (suspended, offboarded). */
const SESSION_REFUSALS = {
  401: { description: 'The email and password, or the refresh token, are not valid' },
  403: { description: 'A gate refuses a session for this tenant now: `gate` and `reason` say why' },
};

const sessionBody = (session: IssuedSession) => ({ tokenType: 'Bearer' as const, ...session });

export function authRoutes(options: AuthRouteOptions): Router {
  const router = Router();

  const answer = (outcome: SessionOutcome, invalid: () => Problem) => {
    if (outcome.kind === 'refused') return gateProblem(outcome.decision);
    if (outcome.kind === 'invalid') return invalid();
    return undefined;
  };

  options.route(router, {
    method: 'post',
    path: '/api/v1/auth/login',
    auth: 'public',
    docs: {
      summary: 'Log in with email and password: a short-lived access token, a refresh token, and a device cookie that spares this client the account-wide lockout next time',
      tags: ['auth'],
      body: loginRequestSchema,
      responses: {
        200: { description: 'A session; `Set-Cookie` carries the device cookie (HttpOnly, SameSite=Strict)', schema: sessionResponseSchema },
        ...SESSION_REFUSALS,
        429: { description: 'Too many failed sign-ins from this client, for this account from this client, or for this account from unknown clients: `Retry-After` says when' },
      },
    },
    handler: async (request, response) => {
      const body = parseOr400(loginRequestSchema, request.body);
      // Counted as a failure before the password is checked: concurrent guesses cannot outrun the lock.
      const refusal = await options.credentials.reserve(request, 'login', body.email);
      if (refusal) {
        options.metrics.logins.inc({ outcome: 'rate_limited' });
        throw refusal;
      }
      const outcome = await options.auth.login(body);
      const problem = answer(outcome, () => new Problem(401, 'Invalid credentials', 'The email or password is incorrect.'));
      options.metrics.logins.inc({ outcome: outcome.kind === 'issued' ? 'success' : outcome.kind });
      // Only a wrong email or password stays a failure; a gate refusing a right password's tenant gives it back.
      if (outcome.kind === 'issued') await options.credentials.succeeded(request, response, body.email);
      else if (outcome.kind !== 'invalid') await options.credentials.released(request, body.email);
      if (problem) throw problem;
      if (outcome.kind !== 'issued') return;
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
