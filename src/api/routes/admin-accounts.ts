import { Router } from 'express';
import { actorOf } from '../../auth/principal';
import type { Orm } from '../../db/orm';
import type { AccountServices } from '../../services/accounts';
import { principalOf, type RouteDeclarer } from '../auth';
import { Problem, parseOr400 } from '../problem';
import { extendInvitationSchema, invitationPathSchema, operatorReasonSchema, undeliveredMailQuerySchema } from '../schemas/accounts';
import { tenantPathSchema } from '../schemas/billing-state';

/** Operators' side of accounts: mail that could not be delivered, a verification link sent again, an invitation extended. */
export function adminAccountRoutes(options: { accounts: AccountServices; orm: Orm; route: RouteDeclarer }): Router {
  const router = Router();

  options.route(router, {
    method: 'get',
    path: '/api/v1/admin/mail/undelivered',
    auth: 'operator:ops',
    docs: { summary: 'Mail whose retries are spent, newest first: kind, recipient, tenant, workflow and the last error', tags: ['admin', 'mail'], query: undeliveredMailQuerySchema },
    handler: async (request, response) => {
      const { limit } = parseOr400(undeliveredMailQuerySchema, request.query, 'query');
      const items = await options.orm.em.fork().execute(
        `select delivery_key as "deliveryKey", kind, recipient, tenant_id as "tenantId", workflow_id as "workflowId", attempts, last_error as "lastError", updated_at as "at"
           from mail_delivery where status = 'undelivered' order by updated_at desc, id limit ?`,
        [limit],
      );
      response.json({ items });
    },
  });

  options.route(router, {
    method: 'post',
    path: '/api/v1/admin/tenants/:tenantId/verification/resend',
    auth: 'operator:ops',
    docs: {
      summary: "Send a fresh verification link to a pending signup's owner (after an undelivered mail, say)",
      tags: ['admin', 'mail'],
      params: tenantPathSchema,
      body: operatorReasonSchema,
      responses: { 202: { description: 'A new link is on its way' }, 409: { description: 'The tenant is verified already, or needs no verification' } },
    },
    handler: async (request, response) => {
      const { tenantId } = parseOr400(tenantPathSchema, request.params, 'path');
      const { reason } = parseOr400(operatorReasonSchema, request.body ?? {});
      const outcome = await options.accounts.verification.resend(tenantId, actorOf(principalOf(response)), reason);
      if (outcome.kind === 'not_pending' && outcome.state === 'missing') throw new Problem(404, 'Not found', 'No such tenant.');
      if (outcome.kind !== 'sent') throw new Problem(409, 'Nothing to verify', outcome.kind === 'refused' ? outcome.message : `The tenant's verification is ${outcome.state}.`);
      response.status(202).json(outcome.view);
    },
  });

  options.route(router, {
    method: 'post',
    path: '/api/v1/admin/tenants/:tenantId/invitations/:invitationId/extend',
    auth: 'operator:ops',
    docs: {
      summary: 'Give a pending invitation more days (its link too)',
      tags: ['admin', 'team'],
      params: invitationPathSchema,
      body: extendInvitationSchema,
      responses: { 200: { description: 'The new expiry' }, 409: { description: 'The invitation is no longer pending' } },
    },
    handler: async (request, response) => {
      const { tenantId, invitationId } = parseOr400(invitationPathSchema, request.params, 'path');
      const body = parseOr400(extendInvitationSchema, request.body ?? {});
      const outcome = await options.accounts.team.extend({ tenantId, invitationId, days: body.days, reason: body.reason, actor: actorOf(principalOf(response)) });
      if (outcome.kind === 'not_found') throw new Problem(404, 'Not found', 'No such invitation.');
      if (outcome.kind === 'refused') throw new Problem(409, 'Invitation settled', outcome.message);
      response.json(outcome.view);
    },
  });

  return router;
}
