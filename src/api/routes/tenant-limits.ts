import { Router } from 'express';
import { tenantPathSchema } from '../schemas/billing-state';
import type { BillingStateSource } from '../../billing/billing-state-source';
import { runCeilings, type PlatformCeilings } from '../../gates/protection-gate';
import { tenantNotFound, tenantPrincipalOf, type RouteDeclarer } from '../auth';

/** What the tenant may consume now and why: its plan, its subscription state, and where that answer came from. */
export function tenantLimitRoutes(options: { billing: BillingStateSource; platform: PlatformCeilings; route: RouteDeclarer }): Router {
  const router = Router();
  options.route(router, {
    method: 'get',
    path: '/api/v1/tenants/:tenantId/limits',
    auth: 'tenant:tenant:read',
    docs: { summary: 'What the tenant may consume now, and why', tags: ['tenants'], params: tenantPathSchema },
    handler: async (_request, response) => {
      const caller = tenantPrincipalOf(response);
      const view = await options.billing.viewOf(caller.tenantId);
      if (!view) throw tenantNotFound();
      response.json({
        tenantId: caller.tenantId,
        plan: view.plan,
        subscriptionState: view.subscriptionState,
        limits: view.limits,
        ceilings: runCeilings(view.limits, options.platform),
        origin: view.origin,
      });
    },
  });
  return router;
}
