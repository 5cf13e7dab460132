import { Router, type Request } from 'express';
import { ipKeyGenerator, rateLimit, type RateLimitInfo } from 'express-rate-limit';
import { throttle } from '../../domain/gate-decision';
import type { GateRecorder } from '../../gates/gate-recorder';
import type { AccountServices } from '../../services/accounts';
import type { RouteDeclarer } from '../auth';
import type { CredentialThrottle } from '../credential-throttle';
import { gateProblem } from '../gate-problem';
import type { RateLimitStores } from '../rate-limit-store';
import { Problem, parseOr400 } from '../problem';
import { acceptInvitationSchema, passwordResetCompleteSchema, passwordResetRequestSchema, verifyEmailRequestSchema } from '../schemas/accounts';

const HOUR_MS = 60 * 60 * 1000;

/**
 * The one answer for a well-formed link that is unknown, used, withdrawn or expired: which of them is nobody's
 * business. Not a 400: the request was well formed, the link is simply no longer (or never was) good.
 */
const invalidLink = () => new Problem(410, 'Link not valid', 'The link is invalid, expired or already used: ask for a new one.');
const LINK_GONE = {
  410: { description: 'The link is unknown, expired or already used (one answer for all three)' },
  429: { description: 'Too many failed credential checks (passwords, links) from this client, or for this account: `Retry-After` says when' },
};
const weakPassword = (problems: string[]) => new Problem(400, 'Validation failed', 'The password does not meet the policy.', { errors: problems.map((message) => ({ path: 'password', message })) });

/** A per-hour limit counted in the shared Postgres store; every request counts, and a refusal is a recorded throttle. */
export function hourlyLimit(options: { stores: RateLimitStores; gates: GateRecorder; name: string; limit: number; boundary: string; keyGenerator: (request: Request) => string }) {
  return rateLimit({
    windowMs: HOUR_MS,
    limit: options.limit,
    keyGenerator: options.keyGenerator,
    store: options.stores(options.name),
    requestPropertyName: options.name,
    // Listed beside the request budgets' policies in the RateLimit fields (draft-8 structured-field lists).
    standardHeaders: 'draft-8',
    identifier: options.name,
    legacyHeaders: false,
    handler: (request, _response, next) => {
      const resetAt = (request as Request & Record<string, RateLimitInfo | undefined>)[options.name]?.resetTime?.getTime() ?? Date.now() + HOUR_MS;
      const decision = throttle('protection', 'too many requests of this kind; try again later', Math.max(1, Math.ceil((resetAt - Date.now()) / 1000)));
      options.gates.record(decision, { boundary: options.boundary });
      next(gateProblem(decision));
    },
  });
}

const addressKey = (request: Request) => `address:${ipKeyGenerator(request.ip ?? 'unknown')}`;
/** The address asked about, whether or not it has an account: both are limited alike. */
const accountKey = (request: Request) => {
  const email = (request.body as { email?: unknown } | undefined)?.email;
  return `account:${typeof email === 'string' ? email.trim().toLowerCase().slice(0, 320) : ''}`;
};

/** The public account routes: open an emailed link (verify, reset, accept), and ask for a password reset. */
export function accountRoutes(options: { accounts: AccountServices; route: RouteDeclarer; stores: RateLimitStores; gates: GateRecorder; credentials: CredentialThrottle }): Router {
  const router = Router();
  const { accounts } = options;
  const limit = (name: string, perHour: number, keyGenerator: (request: Request) => string, boundary: string) => hourlyLimit({ stores: options.stores, gates: options.gates, name, limit: perHour, keyGenerator, boundary });

  options.route(router, {
    method: 'post',
    path: '/api/v1/auth/verify-email',
    auth: 'public',
    docs: { summary: "Verify a signup's email with the token of its link (single use, 24 hours)", tags: ['auth'], body: verifyEmailRequestSchema, responses: { 200: { description: 'The tenant is verified' }, ...LINK_GONE } },
    before: [limit('verifyEmailAddressLimit', accounts.limits.linkUsesPerAddress, addressKey, 'verify_email')],
    handler: async (request, response) => {
      const { token } = parseOr400(verifyEmailRequestSchema, request.body);
      const refusal = await options.credentials.reserve(request, 'verify_email');
      if (refusal) throw refusal;
      const outcome = await accounts.verification.verify(token);
      // An unknown or spent token stays counted as a failure; a valid one gives the attempt back.
      if (outcome.kind === 'invalid') throw invalidLink();
      await options.credentials.released(request);
      response.json({ tenantId: outcome.tenantId, verifiedAt: outcome.verifiedAt });
    },
  });

  options.route(router, {
    method: 'post',
    path: '/api/v1/auth/password-reset',
    auth: 'public',
    docs: {
      summary: 'Ask for a password reset link: the same answer whether or not the address has an account',
      tags: ['auth'],
      body: passwordResetRequestSchema,
      responses: { 202: { description: 'If the address has an account, a link (single use, 30 minutes) is on its way' } },
    },
    before: [
      limit('passwordResetAddressLimit', accounts.limits.passwordResetsPerAddress, addressKey, 'password_reset'),
      limit('passwordResetAccountLimit', accounts.limits.passwordResetsPerAccount, accountKey, 'password_reset'),
    ],
    handler: async (request, response) => {
      const { email } = parseOr400(passwordResetRequestSchema, request.body);
      await accounts.passwordReset.request(email);
      response.status(202).json({ status: 'accepted', detail: 'If the address has an account, a reset link is on its way.' });
    },
  });

  options.route(router, {
    method: 'post',
    path: '/api/v1/auth/password-reset/complete',
    auth: 'public',
    docs: {
      summary: "Set a new password with a reset link's token; every session of the account ends",
      tags: ['auth'],
      body: passwordResetCompleteSchema,
      responses: { 204: { description: 'The password is set; sign in again' }, ...LINK_GONE },
    },
    before: [limit('passwordResetCompleteAddressLimit', accounts.limits.linkUsesPerAddress, addressKey, 'password_reset_complete')],
    handler: async (request, response) => {
      const body = parseOr400(passwordResetCompleteSchema, request.body);
      const refusal = await options.credentials.reserve(request, 'password_reset_complete');
      if (refusal) throw refusal;
      const outcome = await accounts.passwordReset.complete(body);
      if (outcome.kind === 'invalid') throw invalidLink();
      await options.credentials.released(request);
      if (outcome.kind === 'weak') throw weakPassword(outcome.problems);
      response.status(204).end();
    },
  });

  options.route(router, {
    method: 'post',
    path: '/api/v1/invitations/accept',
    auth: 'public',
    docs: {
      summary: "Accept an invitation with its link's token: a new person sets a password, someone with an account gives theirs",
      tags: ['team'],
      body: acceptInvitationSchema,
      responses: {
        201: { description: 'The membership' },
        401: { description: 'The address has an account and the password is not its password' },
        409: { description: 'Already a member, the tenant has no seat left on its plan, or it is not active' },
        ...LINK_GONE,
      },
    },
    before: [limit('acceptInvitationAddressLimit', accounts.limits.linkUsesPerAddress, addressKey, 'invitation_accept')],
    handler: async (request, response) => {
      const body = parseOr400(acceptInvitationSchema, request.body);
      // The account is the invited address, known once the link is: its password guesses count as sign-in failures.
      const invitee = await accounts.team.invitee(body.token);
      const refusal = await options.credentials.reserve(request, 'invitation_accept', invitee);
      if (refusal) throw refusal;
      const outcome = await accounts.team.accept(body);
      // A bad token or a wrong password stays counted as a failure; any other outcome gives the attempt back.
      if (outcome.kind === 'accepted' && invitee !== undefined) await options.credentials.succeeded(request, response, invitee);
      else if (outcome.kind !== 'invalid_token' && outcome.kind !== 'wrong_password') await options.credentials.released(request, invitee);
      switch (outcome.kind) {
        case 'invalid_token':
          throw invalidLink();
        case 'weak_password':
          throw weakPassword(outcome.problems);
        case 'wrong_password':
          throw new Problem(401, 'Invalid credentials', 'This address has an account: give its password to join.', {}, { 'WWW-Authenticate': 'Bearer realm="control-plane"' });
        case 'already_member':
          throw new Problem(409, 'Already a member', 'This account is already a member of the tenant.');
        case 'tenant_unavailable':
          throw new Problem(409, 'Tenant not available', `The organisation is ${outcome.status.replace('_', ' ')} and takes no new members now.`);
        case 'no_seat':
          throw new Problem(409, 'No seat left', `The tenant's plan has ${outcome.seats.limit} seats, all taken; ask an admin to free one or upgrade.`, { seats: outcome.seats });
        case 'accepted':
          response.status(201).json({ tenantId: outcome.tenantId, userId: outcome.userId, role: outcome.role, newAccount: outcome.newAccount });
      }
    },
  });

  return router;
}
