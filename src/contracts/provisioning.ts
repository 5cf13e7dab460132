/**
 * Sandbox-safe contract of the provisioning saga, shared by the workflow, its activities, the API and tests.
 * Imports nothing that touches Node APIs.
 */
import { defineQuery } from '@temporalio/workflow';
import type { ProvisioningFailureType } from '../domain/provisioning-failure';
import type { EmailVerificationSettings } from './accounts';

export const PROVISIONING_STEPS = [
  'reserveTenant',
  'createOwner',
  'openTrialBilling',
  'createTenantSchema',
  'initOnboarding',
  'activateTenant',
] as const;
export type ProvisioningStep = (typeof PROVISIONING_STEPS)[number];

// Defined in the domain, which must not import this module (it pulls in @temporalio/workflow); re-exported so the
// contract stays the one place workflows, activities, API and tests import the failure types from.
export { ProvisioningFailure, type ProvisioningFailureType } from '../domain/provisioning-failure';

export interface ProvisionTenantInput {
  tenantId: string;
  slug: string;
  orgName: string;
  ownerEmail: string;
  /** Hashed by the API before the workflow starts: no plain password ever enters workflow history. */
  passwordHash: string;
  /** Hash of (email, orgName): lets the API tell the same signup repeated from a different one for the slug. */
  signupFingerprint: string;
  /** Retention of a later soft delete that names none; handed to the tenant's lifecycle workflow. */
  defaultRetentionDays?: number;
  /** When the owner is reminded to verify the email and when an unverified signup is offboarded (config); defaults otherwise. */
  verification?: EmailVerificationSettings;
}

export interface ProvisionTenantResult {
  tenantId: string;
  slug: string;
  /** `existing_account_notified`: the owner's address had an account; nothing was created and its owner was told. */
  status: 'active' | 'existing_account_notified';
}

export type StepState = 'pending' | 'running' | 'completed' | 'failed' | 'compensating' | 'compensated' | 'compensation_failed';
// Defined in the domain beside its public view; re-exported here with the rest of the contract.
export type { ProvisioningOutcome } from '../domain/signup-progress';
import type { ProvisioningOutcome } from '../domain/signup-progress';

export interface ProvisioningProgress {
  tenantId: string;
  slug: string;
  signupFingerprint: string;
  outcome: ProvisioningOutcome;
  currentStep: ProvisioningStep | null;
  steps: Array<{ name: ProvisioningStep; state: StepState }>;
  failure?: { step: ProvisioningStep; type: ProvisioningFailureType; message: string };
}

/** A compensation that failed non-retryably: the rollback went on without it and an operator must finish it. */
export interface FailedCompensation {
  step: ProvisioningStep;
  cause: string;
}

export const provisioningProgressQuery = defineQuery<ProvisioningProgress>('provisioningProgress');

/** Activity input shared by every step: which tenant, under which saga. */
export interface StepContext {
  tenantId: string;
  workflowId: string;
}

/** The notice mailed to an address's owner when a signup named it (workflows/signup-notice.ts). */
export interface SignupAttemptNoticeInput {
  email: string;
  /** The signup that named the address, for the ledger's trail. */
  signupWorkflowId: string;
}
