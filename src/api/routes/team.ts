import { Router } from 'express';
import { actorOf, type TenantPrincipal } from '../../auth/principal';
import { Tenant } from '../../db/entities';
import { throttle } from '../../domain/gate-decision';
import { mayGrant } from '../../domain/permissions';
import type { Orm } from '../../db/orm';
import type { GateRecorder } from '../../gates/gate-recorder';
import type { AccountServices } from '../../services/accounts';
import type { TeamActor } from '../../services/accounts/team-service';
import { tenantNotFound, tenantPrincipalOf, type RouteDeclarer } from '../auth';
import { gateProblem } from '../gate-problem';
import type { RateLimitStores } from '../rate-limit-store';
import { Problem, parseOr400 } from '../problem';
import { invitationPathSchema, inviteRequestSchema, memberPathSchema, memberRoleRequestSchema, tenantViewSchema, verificationResendSchema } from '../schemas/accounts';
import { tenantPathSchema } from '../schemas/billing-state';
import { hourlyLimit } from './accounts';

const TENANT = '/api/v1/tenants/:tenantId';

const teamActor = (caller: TenantPrincipal): TeamActor => ({ actor: actorOf(caller), userId: caller.kind === 'user' ? caller.userId : null, role: caller.role });

const MEMBER_REFUSALS = {
  outranked: () => new Problem(403, 'Forbidden', 'You cannot change a member whose role is above yours.'),
  not_grantable: () => new Problem(403, 'Role not grantable', 'You cannot give a role above your own.', { errors: [{ path: 'role', message: 'is above your own role' }] }),
  last_owner: () => new Problem(409, 'Last owner', 'The tenant must keep an owner: make someone else owner first.'),
  not_found: () => new Problem(404, 'Not found', 'No such member.'),
};

/** A tenant's own view of itself, its email verification, its team and its invitations. */
export function teamRoutes(options: { accounts: AccountServices; orm: Orm; route: RouteDeclarer; stores: RateLimitStores; gates: GateRecorder }): Router {
  const router = Router();
  const { team, verification } = options.accounts;

  options.route(router, {
    method: 'get',
    path: TENANT,
    auth: 'tenant:tenant:read',
    docs: { summary: 'The tenant: name, state, email verification and seats', tags: ['tenants'], params: tenantPathSchema, responses: { 200: { description: 'The tenant', schema: tenantViewSchema } } },
    handler: async (_request, response) => {
      const caller = tenantPrincipalOf(response);
      const tenant = await options.orm.em.fork().findOne(Tenant, { id: caller.tenantId });
      const state = await verification.status(caller.tenantId);
      if (!tenant || !state) throw tenantNotFound();
      response.json({ tenantId: tenant.id, slug: tenant.slug, name: tenant.name, status: tenant.status, createdAt: tenant.createdAt.toISOString(), emailVerification: state, seats: await team.seats(tenant.id) });
    },
  });

  options.route(router, {
    method: 'post',
    path: `${TENANT}/verification/resend`,
    auth: 'tenant:tenant:manage',
    docs: {
      summary: 'Send a fresh verification link to the owner (the previous link stops working)',
      tags: ['tenants'],
      params: tenantPathSchema,
      body: verificationResendSchema,
      responses: { 202: { description: 'A new link is on its way' }, 409: { description: 'The tenant is verified already, or needs no verification' } },
    },
    before: [hourlyLimit({ stores: options.stores, gates: options.gates, name: 'verificationResendLimit', limit: options.accounts.limits.verificationResendsPerTenant, keyGenerator: (request) => `tenant:${String(request.params.tenantId)}`, boundary: 'verification_resend' })],
    handler: async (request, response) => {
      const caller = tenantPrincipalOf(response);
      const { reason } = parseOr400(verificationResendSchema, request.body ?? {});
      const outcome = await verification.resend(caller.tenantId, actorOf(caller), reason);
      if (outcome.kind === 'not_pending') throw new Problem(409, 'Nothing to verify', outcome.state === 'verified' ? 'The email is already verified.' : 'This tenant needs no email verification.');
      if (outcome.kind === 'refused') throw new Problem(409, 'Nothing to verify', outcome.message);
      response.status(202).json(outcome.view);
    },
  });

  options.route(router, {
    method: 'post',
    path: `${TENANT}/invitations`,
    auth: 'tenant:members:manage',
    docs: {
      summary: 'Invite someone by email with a role; a pending invitation holds a seat until it is accepted, revoked or expires',
      tags: ['team'],
      params: tenantPathSchema,
      body: inviteRequestSchema,
      responses: {
        201: { description: 'The invitation; its mail is on its way' },
        409: { description: "Already a member, already invited, or no seat left on the tenant's plan" },
        429: { description: 'The invitation mail ration is spent (the tenant\'s for today, or this address\'s): nothing was queued; `Retry-After` says when' },
      },
    },
    handler: async (request, response) => {
      const body = parseOr400(inviteRequestSchema, request.body);
      const caller = tenantPrincipalOf(response);
      // No escalation through invitations: nobody invites above their own role.
      if (!mayGrant(caller.role, body.role)) {
        throw new Problem(403, 'Role not grantable', `A ${caller.role} cannot invite with the ${body.role} role.`, { errors: [{ path: 'role', message: `must be ${caller.role} or below` }] });
      }
      const outcome = await team.invite({ tenantId: caller.tenantId, email: body.email, role: body.role, by: teamActor(caller) });
      switch (outcome.kind) {
        case 'already_member':
          throw new Problem(409, 'Already a member', 'This address already belongs to a member.', { errors: [{ path: 'email', message: 'is already a member' }] });
        case 'already_invited':
          throw new Problem(409, 'Already invited', 'This address has a pending invitation: revoke it to invite again.', { invitationId: outcome.invitationId, errors: [{ path: 'email', message: 'has a pending invitation' }] });
        case 'no_seat':
          throw new Problem(409, 'No seat left', `The plan has ${outcome.seats.limit} seats: ${outcome.seats.members} members and ${outcome.seats.pending} pending invitations.`, { seats: outcome.seats });
        case 'rationed': {
          // One reason for both recipient windows: which one is full would tell a tenant what other tenants sent.
          const reason = outcome.scope === 'tenant_daily' ? "the tenant's invitation mails for today are spent" : 'too many invitations to this address lately';
          throw gateProblem(options.gates.record(throttle('protection', reason, outcome.retryAfterSeconds), { boundary: 'invitation_mail', tenantId: caller.tenantId }));
        }
        case 'invited':
          response.status(201).json(outcome.invitation);
      }
    },
  });

  options.route(router, {
    method: 'get',
    path: `${TENANT}/invitations`,
    auth: 'tenant:members:manage',
    docs: { summary: "The tenant's invitations, newest first", tags: ['team'], params: tenantPathSchema },
    handler: async (_request, response) => {
      response.json({ items: await team.invitations(tenantPrincipalOf(response).tenantId) });
    },
  });

  options.route(router, {
    method: 'delete',
    path: `${TENANT}/invitations/:invitationId`,
    auth: 'tenant:members:manage',
    docs: { summary: 'Revoke a pending invitation: its link stops working and its seat is free', tags: ['team'], params: invitationPathSchema, responses: { 204: { description: 'Revoked' }, 409: { description: 'Already accepted or expired' } } },
    handler: async (request, response) => {
      const { invitationId } = parseOr400(invitationPathSchema, request.params, 'path');
      const caller = tenantPrincipalOf(response);
      const outcome = await team.revoke({ tenantId: caller.tenantId, invitationId, by: teamActor(caller) });
      if (outcome === 'not_found') throw new Problem(404, 'Not found', 'No such invitation.');
      if (outcome === 'accepted' || outcome === 'expired') throw new Problem(409, 'Invitation settled', `The invitation was ${outcome}.`);
      response.status(204).end();
    },
  });

  options.route(router, {
    method: 'get',
    path: `${TENANT}/members`,
    auth: 'tenant:tenant:read',
    docs: { summary: "The tenant's members and its seats (limit, members, pending invitations)", tags: ['team'], params: tenantPathSchema },
    handler: async (_request, response) => {
      const { members, seats } = await team.members(tenantPrincipalOf(response).tenantId);
      response.json({ items: members, seats });
    },
  });

  options.route(router, {
    method: 'patch',
    path: `${TENANT}/members/:userId`,
    auth: 'tenant:members:manage',
    docs: { summary: "Change a member's role (never above your own, never the last owner's)", tags: ['team'], params: memberPathSchema, body: memberRoleRequestSchema, responses: { 200: { description: 'The new role' }, 409: { description: 'It would leave the tenant without an owner' } } },
    handler: async (request, response) => {
      const { userId } = parseOr400(memberPathSchema, request.params, 'path');
      const { role } = parseOr400(memberRoleRequestSchema, request.body);
      const caller = tenantPrincipalOf(response);
      const outcome = await team.changeMember({ tenantId: caller.tenantId, userId, role, by: teamActor(caller) });
      if (outcome !== 'changed') throw MEMBER_REFUSALS[outcome]();
      response.json({ userId, role });
    },
  });

  options.route(router, {
    method: 'delete',
    path: `${TENANT}/members/:userId`,
    auth: 'tenant:members:manage',
    docs: { summary: 'Remove a member (never the last owner); their sessions of this tenant end', tags: ['team'], params: memberPathSchema, responses: { 204: { description: 'Removed' }, 409: { description: 'It would leave the tenant without an owner' } } },
    handler: async (request, response) => {
      const { userId } = parseOr400(memberPathSchema, request.params, 'path');
      const caller = tenantPrincipalOf(response);
      const outcome = await team.changeMember({ tenantId: caller.tenantId, userId, role: null, by: teamActor(caller) });
      if (outcome !== 'changed') throw MEMBER_REFUSALS[outcome]();
      response.status(204).end();
    },
  });

  return router;
}




