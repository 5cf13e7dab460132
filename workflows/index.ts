// Every workflow the worker bundles; the bundler starts here.
export { provisionTenant } from './provisioning';
export { billingTrial } from './billing';
export { runWorkflow } from './run';
export { reconcileRunAudits } from './reconciler';
export { tenantLifecycle } from './lifecycle';
export { offboardTenant } from './offboarding';
export { superviseTenantLifecycles } from './lifecycle-supervisor';
export { releaseStrandedRuns } from './run-reservation-sweep';
export { emailVerification } from './email-verification';
export { passwordReset } from './password-reset';
export { teamInvitation } from './invitation';
export { signupAttemptNotice } from './signup-notice';
