import { Router } from 'express';
import { actorOf } from '../../auth/principal';
import type { BillingStateService } from '../../services/billing-state-service';
import { principalOf, type RouteDeclarer } from '../auth';
import { Problem, parseOr400 } from '../problem';
import { setBillingStateRequestSchema, tenantPathSchema } from '../schemas/billing-state';

const PATH = '/api/v1/admin/tenants/:tenantId/billing-state';
const noBillingAccount = () => new Problem(404, 'Not found', 'No billing account for this tenant.');

/** Operators read billing state; only a founder changes it (it changes what a tenant pays for). */
export function adminBillingStateRoutes(options: { billingStates: BillingStateService; route: RouteDeclarer }): Router {
  const router = Router();

  options.route(router, {
    method: 'get',
    path: PATH,
    auth: 'operator:ops',
    docs: { summary: "A tenant's billing state", tags: ['admin'], params: tenantPathSchema },
    handler: async (request, response) => {
      const { tenantId } = parseOr400(tenantPathSchema, request.params, 'path');
      const state = await options.billingStates.read(tenantId);
      if (!state) throw noBillingAccount();
      response.json(state);
    },
  });

  options.route(router, {
    method: 'put',
    path: PATH,
    auth: 'operator:founder',
    docs: {
      summary: "Set a tenant's plan or subscription state (audited); back to trial re-arms it: a new trial end date, its timer restarted",
      tags: ['admin'],
      params: tenantPathSchema,
      body: setBillingStateRequestSchema,
    },
    handler: async (request, response) => {
      const { tenantId } = parseOr400(tenantPathSchema, request.params, 'path');
      const change = parseOr400(setBillingStateRequestSchema, request.body);
      const outcome = await options.billingStates.set(tenantId, change, actorOf(principalOf(response)));
      if (outcome.kind === 'not_found') throw noBillingAccount();
      response.json({ ...outcome.record, changed: outcome.kind === 'changed' });
    },
  });

  return router;
}
