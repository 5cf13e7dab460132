/** Readable workflow ids: they are idempotency keys, so they are derived from domain keys, never random. */
export const provisioningWorkflowId = (slug: string) => `provision:${slug}`;
export const tenantLifecycleWorkflowId = (tenantId: string) => `tenant:${tenantId}`;
export const offboardingWorkflowId = (tenantId: string) => `offboard:${tenantId}`;
export const runWorkflowId = (runId: string) => `run:${runId}`;
export const billingTrialWorkflowId = (tenantId: string) => `billing-trial:${tenantId}`;

export const PROVISIONING_WORKFLOW_ID_PATTERN = /^provision:[a-z0-9-]{3,63}$/;
const RUN_WORKFLOW_ID_PATTERN = /^run:(.+)$/;

/** The run id inside a run workflow's id (`run:<runId>`), the inverse of runWorkflowId; undefined for any other id. */
export const runIdOfWorkflowId = (workflowId: string): string | undefined => RUN_WORKFLOW_ID_PATTERN.exec(workflowId)?.[1];
export const emailVerificationWorkflowId = (tenantId: string) => `verify-email:${tenantId}`;
export const invitationWorkflowId = (invitationId: string) => `invitation:${invitationId}`;
/** Keyed by a hash of the address, so the id (visible in the Web UI and lists) does not spell anyone's email. */
export const passwordResetWorkflowId = (emailHash: string) => `password-reset:${emailHash}`;
/** The notice to an address's owner that someone signed up with it, one per signup (its tenant id). */
export const signupNoticeWorkflowId = (tenantId: string) => `signup-notice:${tenantId}`;
