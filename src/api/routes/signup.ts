import type { z } from 'zod';
import { Router } from 'express';
import { rateLimit, type RateLimitInfo } from 'express-rate-limit';
import type { GateRecorder } from '../../gates/gate-recorder';
import type { KillSwitches } from '../../gates/kill-switch-gate';
import type { Metrics } from '../../observability/metrics';
import type { SignupService } from '../../services/signup-service';
import type { RouteDeclarer } from '../auth';
import { publicSignupProgress } from '../../domain/signup-progress';
import { signupSwitch } from '../kill-switches';
import type { RateLimitStores } from '../rate-limit-store';
import { Problem, parseOr400 } from '../problem';
import { signupAcceptedSchema, signupRequestSchema, signupStatusParamsSchema, signupStatusSchema } from '../schemas/signup';

export interface SignupRouteOptions {
  signups: SignupService;
  metrics: Metrics;
  ratePerHour: number;
  switches: KillSwitches;
  gates: GateRecorder;
  /** Shared by every API process: the per-address limit holds whichever process a request reaches. */
  stores: RateLimitStores;
  route: RouteDeclarer;
}

const HOUR_MS = 60 * 60 * 1000;

export function signupRoutes(options: SignupRouteOptions): Router {
  const router = Router();
  const perClientLimit = rateLimit({
    windowMs: HOUR_MS,
    limit: options.ratePerHour,
    store: options.stores('signup-per-address'),
    // Listed beside the request budgets' policies in the RateLimit fields (draft-8 structured-field lists).
    standardHeaders: 'draft-8',
    identifier: 'signup',
    legacyHeaders: false,
    handler: (request, _response, next) => {
      options.metrics.signups.inc({ outcome: 'rate_limited' });
      const resetAt = (request as typeof request & { rateLimit?: RateLimitInfo }).rateLimit?.resetTime?.getTime() ?? Date.now() + HOUR_MS;
      const retryAfter = Math.max(1, Math.ceil((resetAt - Date.now()) / 1000));
      next(new Problem(429, 'Too many requests', 'Too many signups from this address; try again later.', { retryAfterSeconds: retryAfter }, { 'Retry-After': String(retryAfter) }));
    },
  });

  const disabled = signupSwitch(options.switches, options.gates, () => options.metrics.signups.inc({ outcome: 'disabled' }));

  options.route(router, {
    method: 'post',
    path: '/api/v1/signup',
    auth: 'public',
    before: [disabled, perClientLimit],
    docs: {
      summary: 'Sign up: start provisioning a tenant (hosted mode only)',
      tags: ['signup'],
      body: signupRequestSchema,
      responses: {
        202: { description: 'Provisioning started (or the same signup already under way)', schema: signupAcceptedSchema },
        409: { description: 'The organisation name is taken by another signup' },
      },
    },
    handler: async (request, response) => {
      let body;
      try {
        body = parseOr400(signupRequestSchema, request.body);
      } catch (error) {
        options.metrics.signups.inc({ outcome: 'invalid' });
        throw error;
      }
      const { email, password, orgName, slug } = body;
      const outcome = await options.signups.signup({ email, password, orgName, slug });
      options.metrics.signups.inc({ outcome: outcome.kind });
      if (outcome.kind === 'conflict') {
        throw new Problem(409, 'Name taken', `The organisation name "${outcome.slug}" is taken. Choose another name.`, { errors: [{ path: 'orgName', message: 'is taken' }] });
      }
      const { kind: _kind, ...accepted } = outcome;
      const answer: z.infer<typeof signupAcceptedSchema> = { ...accepted, outcome: accepted.status === 'provisioning' ? 'running' : accepted.status };
      response.status(202).location(`/api/v1/signup/${accepted.workflowId}`).json(answer);
    },
  });

  options.route(router, {
    method: 'get',
    path: '/api/v1/signup/:workflowId',
    auth: 'public',
    docs: {
      summary: "A signup's progress: running, active (check your email) or failed; the same whoever the address belongs to",
      tags: ['signup'],
      params: signupStatusParamsSchema,
      responses: { 200: { description: 'Coarse progress from the saga (operators read the steps at /api/v1/admin/signups/{workflowId})', schema: signupStatusSchema } },
    },
    handler: async (request, response) => {
      const { workflowId } = parseOr400(signupStatusParamsSchema, request.params, 'path');
      const progress = await options.signups.progress(workflowId);
      const answer: z.infer<typeof signupStatusSchema> = { workflowId, tenantId: progress.tenantId, slug: progress.slug, ...publicSignupProgress(progress) };
      response.json(answer);
    },
  });

  return router;
}
