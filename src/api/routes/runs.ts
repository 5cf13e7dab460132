import { Router } from 'express';
import type { z } from 'zod';
import type { DecidingCredential, RunControlOutcome, RunDecisionOutcome, RunService } from '../../services/run-service';
import { FourEyesRefusal } from '../../domain/four-eyes';
import type { RunAdmission } from '../../services/run-admission';
import { actorOf, type TenantPrincipal } from '../../auth/principal';
import { tenantPrincipalOf, type RouteDeclarer } from '../auth';
import { gateProblem } from '../gate-problem';
import { Problem, parseOr400 } from '../problem';
import { approvalAnswerSchema, approvalRequestSchema, idempotencyKeyHeaderSchema, runAcceptedSchema, runParamsSchema, runPlanSchema, runViewSchema } from '../schemas/runs';

const runLocation = (runId: string) => `/api/v1/runs/${runId}`;

/** The answer of a run control, or the problem a tenant can act on. */
export function controlled<T>(outcome: RunControlOutcome<T>): T {
  if (outcome.kind === 'not_found') throw new Problem(404, 'Not found', 'No such run.');
  if (outcome.kind === 'finished') throw new Problem(409, 'Run finished', 'The run has already ended.');
  return outcome.answer;
}

const FOUR_EYES_TITLES = {
  [FourEyesRefusal.BySubmitter]: 'Approval by submitter',
  [FourEyesRefusal.NeedsPerson]: 'Approval needs a person',
} as const;

/** The answer of a decision, or the problem: four eyes' refusals are 403 and say why. */
function decided(outcome: RunDecisionOutcome) {
  if (outcome.kind === 'refused') throw new Problem(403, FOUR_EYES_TITLES[outcome.refusal], outcome.reason, { reason: outcome.refusal });
  return controlled(outcome);
}

const decidingCredential = (caller: TenantPrincipal): DecidingCredential =>
  caller.kind === 'user' ? { kind: 'user', userId: caller.userId } : { kind: 'api_key', apiKeyId: caller.keyId };

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
    docs: {
      summary: "A run's phase, step states, outcome and cause; who submitted it and who decided its approvals",
      tags: ['runs'],
      params: runParamsSchema,
      responses: { 200: { description: 'The run', schema: runViewSchema } },
    },
    handler: async (request, response) => {
      const { runId } = parseOr400(runParamsSchema, request.params, 'path');
      const view = await options.runs.status(tenantPrincipalOf(response).tenantId, runId);
      if (!view) throw new Problem(404, 'Not found', 'No such run.');
      const body: z.input<typeof runViewSchema> = view;
      response.json(body);
    },
  });

  for (const decision of ['approve', 'reject'] as const) {
    options.route(router, {
      method: 'post',
      path: `/api/v1/runs/:runId/${decision}`,
      auth: 'tenant:runs:approve',
      docs: {
        summary: `${decision === 'approve' ? 'Approve' : 'Reject'} what a run waits for (tenant owner or admin; never its submitter, and an API key only where the tenant's allow_api_key_approval rule is on)`,
        tags: ['runs'],
        params: runParamsSchema,
        body: approvalRequestSchema,
        responses: {
          200: { description: 'The decision, as the run took it', schema: approvalAnswerSchema },
          403: {
            description:
              'The role may not decide runs; or four eyes refused (audited, the run keeps waiting): `Approval by submitter` when the caller is the person who submitted the run (or its key), `Approval needs a person` when an API key decides without the tenant allowing it',
          },
          409: { description: 'The run has ended, or waits for no such approval' },
        },
      },
      handler: async (request, response) => {
        const caller = tenantPrincipalOf(response);
        const { runId } = parseOr400(runParamsSchema, request.params, 'path');
        const body = parseOr400(approvalRequestSchema, request.body ?? {});
        const decisionRequest = { tenantId: caller.tenantId, runId, decider: decidingCredential(caller), input: { actor: actorOf(caller), ...body } };
        const answer = decided(await (decision === 'approve' ? options.runs.approve(decisionRequest) : options.runs.reject(decisionRequest)));
        const answered: z.input<typeof approvalAnswerSchema> = { runId, ...answer };
        response.json(answered);
      },
    });
  }

  return router;
}
