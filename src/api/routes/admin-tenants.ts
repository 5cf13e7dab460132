import { Router } from 'express';
import { actorOf } from '../../auth/principal';
import { retentionFloorProblem, type LifecycleAction } from '../../domain/lifecycle';
import type { LifecycleService, TransitionOutcome } from '../../services/lifecycle-service';
import { principalOf, type RouteDeclarer } from '../auth';
import { Problem, parseOr400 } from '../problem';
import { lifecycleChangeSchema, softDeleteSchema, stalledOnboardingQuerySchema, tenantPathSchema } from '../schemas/tenants';

const TENANT = '/api/v1/admin/tenants/:tenantId';
const noTenant = () => new Problem(404, 'Not found', 'No such tenant.');

const TRANSITION_RESPONSES = {
  200: { description: 'The new lifecycle state' },
  202: { description: 'The new lifecycle state; offboarding has started' },
  409: { description: 'The tenant is in no state this change applies to: `reason` names the refusal' },
};

function answered(outcome: TransitionOutcome) {
  if (outcome.kind === 'not_found') throw noTenant();
  if (outcome.kind === 'refused') throw new Problem(409, 'Transition refused', outcome.refusal.message, { reason: outcome.refusal.type });
  return outcome.answer;
}

/**
 * Operators steer a tenant's lifecycle. Irreversible or gate-skipping acts (terminate, force-complete) take a founder;
 * the rest ops. Every change goes through the tenant's lifecycle workflow, which audits who and why.
 */
export function adminTenantRoutes(options: { lifecycle: LifecycleService; stallHours: number; retentionFloorDays: number; route: RouteDeclarer }): Router {
  const router = Router();

  options.route(router, {
    method: 'get',
    path: TENANT,
    auth: 'operator:ops',
    docs: { summary: "A tenant's lifecycle state, onboarding, retention deadline and lifecycle history", tags: ['admin', 'lifecycle'], params: tenantPathSchema },
    handler: async (request, response) => {
      const { tenantId } = parseOr400(tenantPathSchema, request.params, 'path');
      const view = await options.lifecycle.view(tenantId);
      if (!view) throw noTenant();
      response.json(view);
    },
  });

  const changes: Array<{ path: string; action: LifecycleAction; auth: 'operator:ops' | 'operator:founder'; summary: string }> = [
    { path: 'suspend', action: 'suspend', auth: 'operator:ops', summary: 'Suspend an active tenant' },
    { path: 'unsuspend', action: 'unsuspend', auth: 'operator:ops', summary: 'Unsuspend a suspended tenant' },
    { path: 'restore', action: 'restore', auth: 'operator:ops', summary: 'Restore a soft-deleted tenant before its retention ends' },
    { path: 'terminate', action: 'terminate', auth: 'operator:founder', summary: 'Terminate a tenant now: irreversible; offboarding starts at once' },
    { path: 'force-complete', action: 'forceComplete', auth: 'operator:founder', summary: 'End a retention wait now (offboard), or mark a stuck onboarding complete' },
  ];
  for (const change of changes) {
    options.route(router, {
      method: 'post',
      path: `${TENANT}/${change.path}`,
      auth: change.auth,
      docs: { summary: change.summary, tags: ['admin', 'lifecycle'], params: tenantPathSchema, body: lifecycleChangeSchema, responses: TRANSITION_RESPONSES },
      handler: async (request, response) => {
        const { tenantId } = parseOr400(tenantPathSchema, request.params, 'path');
        const body = parseOr400(lifecycleChangeSchema, request.body ?? {});
        const answer = answered(await options.lifecycle.transition(tenantId, change.action, { actor: actorOf(principalOf(response)), reason: body.reason }));
        response.status(answer.offboarding ? 202 : 200).location(`/api/v1/admin/tenants/${tenantId}`).json(answer);
      },
    });
  }

  options.route(router, {
    method: 'delete',
    path: TENANT,
    auth: 'operator:ops',
    docs: {
      summary: 'Soft-delete a tenant: it is locked now and offboarded when its retention ends (restore undoes it until then)',
      tags: ['admin', 'lifecycle'],
      params: tenantPathSchema,
      body: softDeleteSchema,
      responses: {
        202: { description: 'Soft-deleted; offboarding waits for the retention to end' },
        409: TRANSITION_RESPONSES[409],
        422: { description: 'retentionDays is below the retention floor (TENANT_RETENTION_FLOOR_DAYS) and the operator may not terminate' },
      },
    },
    handler: async (request, response) => {
      const { tenantId } = parseOr400(tenantPathSchema, request.params, 'path');
      const body = parseOr400(softDeleteSchema, request.body ?? {});
      const caller = principalOf(response);
      const belowFloor = retentionFloorProblem({ retentionDays: body.retentionDays, floorDays: options.retentionFloorDays, operatorRole: caller.kind === 'operator' ? caller.role : 'ops' });
      if (belowFloor) {
        throw new Problem(422, 'Retention below floor', belowFloor, { retentionFloorDays: options.retentionFloorDays, errors: [{ path: 'retentionDays', message: `must be at least ${options.retentionFloorDays}` }] });
      }
      const answer = answered(await options.lifecycle.transition(tenantId, 'softDelete', { actor: actorOf(caller), reason: body.reason, retentionDays: body.retentionDays }));
      response.status(202).location(`/api/v1/admin/tenants/${tenantId}`).json(answer);
    },
  });

  options.route(router, {
    method: 'get',
    path: '/api/v1/admin/watch/stalled-onboardings',
    auth: 'operator:ops',
    docs: { summary: 'Live tenants whose onboarding has not moved for ONBOARDING_STALL_HOURS (or olderThanHours)', tags: ['admin', 'watch'], query: stalledOnboardingQuerySchema },
    handler: async (request, response) => {
      const query = parseOr400(stalledOnboardingQuerySchema, request.query, 'query');
      const olderThanHours = query.olderThanHours ?? options.stallHours;
      response.json({ olderThanHours, tenants: await options.lifecycle.stalledOnboardings(olderThanHours, query.limit) });
    },
  });

  return router;
}
