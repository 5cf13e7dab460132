import { Router } from 'express';
import type { SignupService } from '../../services/signup-service';
import type { RouteDeclarer } from '../auth';
import { parseOr400 } from '../problem';
import { signupDetailSchema, signupStatusParamsSchema } from '../schemas/signup';

/** The saga's detailed progress, which the public signup route no longer shows (issue 21 item 6). */
export function adminSignupRoutes(options: { signups: SignupService; route: RouteDeclarer }): Router {
  const router = Router();
  options.route(router, {
    method: 'get',
    path: '/api/v1/admin/signups/:workflowId',
    auth: 'operator:ops',
    docs: {
      summary: "A signup's detailed progress: each step's state, the failure, and whether the address already had an account",
      tags: ['admin', 'signup'],
      params: signupStatusParamsSchema,
      responses: { 200: { description: 'Progress from the saga', schema: signupDetailSchema } },
    },
    handler: async (request, response) => {
      const { workflowId } = parseOr400(signupStatusParamsSchema, request.params, 'path');
      const { signupFingerprint: _private, ...progress } = await options.signups.progress(workflowId);
      response.json({ workflowId, ...progress });
    },
  });
  return router;
}
