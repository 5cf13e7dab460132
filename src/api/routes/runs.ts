import { Router } from 'express';
import type { z } from 'zod';
import type { RunControlOutcome, RunService } from '../../services/run-service';
import type { RunAdmission } from '../../services/run-admission';
import { actorOf } from '../../auth/principal';
import { tenantPrincipalOf, type RouteDeclarer } from '../auth';
import { gateProblem } from '../gate-problem';
import { Problem, parseOr400 } from '../problem';
import { approvalRequestSchema, idempotencyKeyHeaderSchema, runAcceptedSchema, runParamsSchema, runPlanSchema } from '../schemas/runs';

const runLocation = (runId: string) => `/api/v1/runs/${runId}`;

/** The answer of a run control, or the problem a tenant can act on. */
export function controlled<T>(outcome: RunControlOutcome<T>): T {
  if (outcome.kind === 'not_found') throw new Problem(404, 'Not found', 'No such run.');
  if (outcome.kind === 'finished') throw new Problem(409, 'Run finished', 'The run has already ended.');
  return outcome.answer;
}

/**
 * A tenant's runs: submit a plan, read a run, approve or reject what it waits for. The tenant is the caller's own
 * (from its credential); a run of another tenant is answered 404, as if it did not exist.
 */
export function runRoutes(options: { runs: RunService; admit: RunAdmission; route: RouteDeclarer }): Router {
  const router = Router();

  options.route(router, {
    method: 'post',
    path: '/api/v1/runs',
    auth: 'tenant:runs:submit',
    docs: {
      summary: 'Submit a run: a plan of steps from the step registry',
      tags: ['runs'],
      headers: idempotencyKeyHeaderSchema,
      body: runPlanSchema,
      responses: {
        202: { description: 'Accepted (or the run this Idempotency-Key already started); follow Location', schema: runAcceptedSchema },
        409: { description: 'This Idempotency-Key already started a run with a different plan' },
      },
    },
    handler: async (request, response) => {
      const caller = tenantPrincipalOf(response);
      const { 'idempotency-key': idempotencyKey } = parseOr400(idempotencyKeyHeaderSchema, { 'idempotency-key': request.header('idempotency-key') }, 'header');
      const plan = parseOr400(runPlanSchema, request.body);
      const outcome = await options.runs.submit({ tenantId: caller.tenantId, tenantStatus: caller.tenantStatus, submittedBy: actorOf(caller), plan, idempotencyKey }, options.admit);
      if (outcome.kind === 'refused') throw gateProblem(outcome.refusal);
      if (outcome.kind === 'conflict') {
        throw new Problem(409, 'Idempotency key reused', 'This Idempotency-Key already started a run with a different plan.', {
          errors: [{ path: 'idempotency-key', message: 'was used for a different plan' }],
        });
      }
      const accepted: z.infer<typeof runAcceptedSchema> = { runId: outcome.runId, workflowId: outcome.workflowId, phase: 'CREATED', duplicate: outcome.kind === 'duplicate', status: runLocation(outcome.runId) };
      response.status(202).location(runLocation(outcome.runId)).json(accepted);
    },
  });

  options.route(router, {
    method: 'get',
    path: '/api/v1/runs/:runId',
    auth: 'tenant:runs:read',
    docs: { summary: "A run's phase, step states, outcome and cause", tags: ['runs'], params: runParamsSchema },
    handler: async (request, response) => {
      const { runId } = parseOr400(runParamsSchema, request.params, 'path');
      const view = await options.runs.status(tenantPrincipalOf(response).tenantId, runId);
      if (!view) throw new Problem(404, 'Not found', 'No such run.');
      response.json(view);
    },
  });

  for (const decision of ['approve', 'reject'] as const) {
    options.route(router, {
      method: 'post',
      path: `/api/v1/runs/:runId/${decision}`,
      auth: 'tenant:runs:approve',
      docs: {
        summary: `${decision === 'approve' ? 'Approve' : 'Reject'} what a run waits for (tenant owner or admin)`,
        tags: ['runs'],
        params: runParamsSchema,
        body: approvalRequestSchema,
        responses: { 200: { description: 'The decision, as the run took it' }, 409: { description: 'The run has ended, or waits for no such approval' } },
      },
      handler: async (request, response) => {
        const caller = tenantPrincipalOf(response);
        const { runId } = parseOr400(runParamsSchema, request.params, 'path');
        const body = parseOr400(approvalRequestSchema, request.body ?? {});
        const input = { actor: actorOf(caller), ...body };
        const answer = controlled(await (decision === 'approve' ? options.runs.approve(caller.tenantId, runId, input) : options.runs.reject(caller.tenantId, runId, input)));
        response.json({ runId, ...answer });
      },
    });
  }

  return router;
}
