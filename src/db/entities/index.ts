import { ApiKeySchema } from './api-key';
import { AuditEventSchema } from './audit-event';
import { BillingAccountSchema } from './billing-account';
import { DomainEventSchema } from './domain-event';
import { RefreshTokenSchema } from './refresh-token';
import { PolicyRuleSchema } from './policy-rule';
import { RunSchema } from './run';
import { RunAckSchema } from './run-ack';
import { RunAuditCursorSchema } from './run-audit-cursor';
import { RunAuditFindingSchema } from './run-audit-finding';
import { RunExpectationSchema } from './run-expectation';
import { RunIncidentSchema } from './run-incident';
import { RunStepUndoSchema } from './run-step-undo';
import { TenantSchema } from './tenant';
import { TenantArchiveSchema } from './tenant-archive';
import { TenantMembershipSchema } from './tenant-membership';
import { UserSchema } from './user';
import { RateLimitCounterSchema } from './rate-limit-counter';
import { RequestBudgetCounterSchema } from './request-budget-counter';
import { WorkerHeartbeatSchema } from './worker-heartbeat';
import { InvitationSchema } from './invitation';
import { LinkTokenSchema } from './link-token';
import { MailDeliverySchema } from './mail-delivery';
import { MailRationEntrySchema } from './mail-ration-entry';
import { CredentialThrottleSchema } from './credential-throttle';

export { ApiKey } from './api-key';
export { AuditEvent } from './audit-event';
export { BillingAccount } from './billing-account';
export { DomainEventRecord } from './domain-event';
export { RefreshToken } from './refresh-token';
export { PolicyRule } from './policy-rule';
export { Run } from './run';
export { RunAck } from './run-ack';
export { RunAuditCursor } from './run-audit-cursor';
export { RunAuditFinding } from './run-audit-finding';
export { RunExpectation } from './run-expectation';
export { RunIncident } from './run-incident';
export { RunStepUndo } from './run-step-undo';
export { Tenant } from './tenant';
export { TenantArchive } from './tenant-archive';
export { TenantMembership } from './tenant-membership';
export { User } from './user';
export { WorkerHeartbeat } from './worker-heartbeat';
export { RateLimitCounter } from './rate-limit-counter';
export { RequestBudgetCounter } from './request-budget-counter';
export { Invitation } from './invitation';
export { LinkToken } from './link-token';
export { MailDelivery } from './mail-delivery';
export { MailRationEntry } from './mail-ration-entry';
export { CredentialThrottle } from './credential-throttle';

/** The run kernel's tables (Migration20261123040000Runs; the reconciler's cursor, Migration20261202090000RunAuditSweep). */
const RUN_ENTITY_SCHEMAS = [RunSchema, RunExpectationSchema, RunAckSchema, RunIncidentSchema, RunStepUndoSchema, PolicyRuleSchema, RunAuditFindingSchema, RunAuditCursorSchema];

/** Accounts (Migration...Accounts): emailed links, invitations, the mail ledger. */
const ACCOUNT_ENTITY_SCHEMAS = [LinkTokenSchema, InvitationSchema, MailDeliverySchema];

/** Abuse protection at the public edge (Migration...MailRationAndCredentialThrottle): the mail ration, failed credential checks. */
const ABUSE_ENTITY_SCHEMAS = [MailRationEntrySchema, CredentialThrottleSchema];

export const ENTITY_SCHEMAS = [TenantSchema, UserSchema, TenantMembershipSchema, BillingAccountSchema, AuditEventSchema, ApiKeySchema, RefreshTokenSchema, DomainEventSchema, TenantArchiveSchema, WorkerHeartbeatSchema, RateLimitCounterSchema, RequestBudgetCounterSchema, ...RUN_ENTITY_SCHEMAS, ...ACCOUNT_ENTITY_SCHEMAS, ...ABUSE_ENTITY_SCHEMAS];
