import { z } from 'zod';
import { text } from '../../domain/storable-schemas';
import { PROVISIONING_STEPS } from '../../contracts/provisioning';
import { passwordProblems, PASSWORD_MAX_LENGTH } from '../../domain/password-policy';
import { slugify, slugProblem } from '../../domain/slug';
import { PROVISIONING_WORKFLOW_ID_PATTERN } from '../../temporal/workflow-ids';

/** Public signup body. Unknown fields are refused, so a typo never silently drops data. */
export const signupRequestSchema = z
  .strictObject({
    email: z.email({ message: 'must be a valid email address' }).max(320).transform((email) => email.toLowerCase()),
    password: text().min(1, { message: 'is required' }).max(PASSWORD_MAX_LENGTH),
    orgName: text().trim().min(1, { message: 'is required' }).max(200),
  })
  .superRefine((body, ctx) => {
    for (const message of passwordProblems(body.password, body.email)) {
      ctx.addIssue({ code: 'custom', path: ['password'], message });
    }
    const problem = slugProblem(slugify(body.orgName));
    if (problem) ctx.addIssue({ code: 'custom', path: ['orgName'], message: problem });
  })
  .transform((body) => ({ ...body, slug: slugify(body.orgName) }));

export type SignupRequest = z.infer<typeof signupRequestSchema>;

export const signupAcceptedSchema = z.object({
  tenantId: z.uuid(),
  slug: z.string(),
  workflowId: z.string(),
  /** The word GET /api/v1/signup/{workflowId} uses: the saga's outcome so far. */
  outcome: z.enum(['running', 'active', 'failed']),
  status: z.enum(['provisioning', 'active', 'failed']).meta({ deprecated: true, description: 'Use outcome; kept for clients written before it' }),
});

export const signupStatusParamsSchema = z.strictObject({
  workflowId: text().regex(PROVISIONING_WORKFLOW_ID_PATTERN, { message: 'must look like provision:<slug>' }),
});

const stepStateSchema = z.enum(['pending', 'running', 'completed', 'failed', 'compensating', 'compensated', 'compensation_failed']);

/**
 * The public progress: coarse on purpose (issue 21 item 6). A signup whose address already has an account answers
 * exactly as any other; the steps are the operators' (signupDetailSchema).
 */
export const signupStatusSchema = z.object({
  workflowId: z.string(),
  tenantId: z.uuid(),
  slug: z.string(),
  outcome: z.enum(['running', 'active', 'failed']),
  detail: z.string(),
});

/** The saga's own view, for operators: each step, the failure and whether the address had an account. */
export const signupDetailSchema = z.object({
  workflowId: z.string(),
  tenantId: z.uuid(),
  slug: z.string(),
  outcome: z.enum(['running', 'rolling_back', 'active', 'failed', 'rollback_failed', 'existing_account_notified']),
  currentStep: z.enum(PROVISIONING_STEPS).nullable(),
  steps: z.array(z.object({ name: z.enum(PROVISIONING_STEPS), state: stepStateSchema })),
  failure: z.object({ step: z.enum(PROVISIONING_STEPS), type: z.string(), message: z.string() }).optional(),
});
