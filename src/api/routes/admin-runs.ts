import { Router } from 'express';
import { actorOf } from '../../auth/principal';
import type { RunService } from '../../services/run-service';
import { principalOf, type RouteDeclarer } from '../auth';
import { Problem, parseOr400 } from '../problem';
import { operatorOverrideSchema, runParamsSchema } from '../schemas/runs';
import { controlled } from './runs';

/** Operator controls over any tenant's run. Force-complete skips governance, so it takes a founder. */
export function adminRunRoutes(options: { runs: RunService; route: RouteDeclarer }): Router {
  const router = Router();

  options.route(router, {
    method: 'get',
    path: '/api/v1/admin/runs/:runId/audit',
    auth: 'operator:ops',
    docs: { summary: "A run's audit reconciliation: expectations, acks, missing, drift, stale", tags: ['admin'], params: runParamsSchema },
    handler: async (request, response) => {
      const { runId } = parseOr400(runParamsSchema, request.params, 'path');
      const audit = await options.runs.audit(runId);
      if (!audit) throw new Problem(404, 'Not found', 'No such run.');
      response.json(audit);
    },
  });

  const overrides = [
    { path: 'terminate', auth: 'operator:ops', act: options.runs.terminate, summary: 'Terminate a run gracefully: cancel, roll back, end FAILED' },
    { path: 'force-complete', auth: 'operator:founder', act: options.runs.forceComplete, summary: 'Force-complete a run: skip what remains, end COMPLETED, audited' },
  ] as const;
  for (const override of overrides) {
    options.route(router, {
      method: 'post',
      path: `/api/v1/admin/runs/:runId/${override.path}`,
      auth: override.auth,
      docs: {
        summary: override.summary,
        tags: ['admin'],
        params: runParamsSchema,
        body: operatorOverrideSchema,
        responses: { 202: { description: 'Taken; follow Location to the audit' }, 409: { description: 'The run has already ended' } },
      },
      handler: async (request, response) => {
        const { runId } = parseOr400(runParamsSchema, request.params, 'path');
        const body = parseOr400(operatorOverrideSchema, request.body ?? {});
        const answer = controlled(await override.act(runId, { actor: actorOf(principalOf(response)), reason: body.reason }));
        response.status(202).location(`/api/v1/admin/runs/${runId}/audit`).json({ runId, ...answer });
      },
    });
  }

  return router;
}
