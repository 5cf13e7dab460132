/**
 * Sandbox-safe contract of the account workflows (email verification, password reset, team invitations), shared by
 * the workflows, their activities, the API and tests. Imports nothing that touches Node APIs.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { MailKind } from '../domain/mail';

/** Why an account workflow refused an update: the API turns these into 409s. */
export const AccountRefusal = {
  AlreadyVerified: 'AlreadyVerified',
  SignupAbandoned: 'SignupAbandoned',
  InvitationSettled: 'InvitationSettled',
  BadExtension: 'BadExtension',
} as const;

// ---- Email verification: one workflow per pending signup, `verify-email:<tenantId>`.

export interface EmailVerificationSettings {
  reminderAfterHours: number;
  abandonAfterDays: number;
}

export interface EmailVerificationInput extends EmailVerificationSettings {
  tenantId: string;
}

export type EmailVerificationOutcome = 'pending' | 'verified' | 'abandoned';

export interface EmailVerificationView {
  tenantId: string;
  outcome: EmailVerificationOutcome;
  /** Links issued so far (first mail, reminder, resends); only the latest works. */
  linksIssued: number;
  linkExpiresAt: string | null;
  reminderAt: string | null;
  deadline: string | null;
}

export interface ResendRequest {
  actor: string;
  /** Why, in the asker's words: recorded in the link's audit row. */
  reason?: string;
}

export const resendVerificationUpdate = defineUpdate<EmailVerificationView, [ResendRequest]>('resendVerification');
/** The API spent the token in Postgres: the workflow ends without reminding or offboarding. */
export const emailVerifiedSignal = defineSignal('emailVerified');
export const emailVerificationQuery = defineQuery<EmailVerificationView>('emailVerification');

// ---- Password reset: one workflow per address asked about, `password-reset:<sha256 of the address>`.

export interface PasswordResetInput {
  email: string;
}

/** Every request (the one that starts the workflow included) arrives as this signal: one code path for all. */
export const passwordResetRequestedSignal = defineSignal('passwordResetRequested');
export const passwordResetCompletedSignal = defineSignal('passwordResetCompleted');

// ---- Team invitations: one workflow per invitation, `invitation:<invitationId>`.

export interface InvitationWorkflowInput {
  invitationId: string;
  tenantId: string;
  expiresAt: string;
  reminderAfterHours: number;
}

export type InvitationOutcome = 'pending' | 'accepted' | 'revoked' | 'expired';

export interface InvitationView {
  invitationId: string;
  outcome: InvitationOutcome;
  expiresAt: string;
  reminderAt: string | null;
}

export interface ExtendInvitationRequest {
  actor: string;
  reason: string;
  days: number;
}

export const extendInvitationUpdate = defineUpdate<InvitationView, [ExtendInvitationRequest]>('extendInvitation');
/** The API accepted or revoked it in Postgres: the workflow ends. */
export const invitationSettledSignal = defineSignal<[{ outcome: 'accepted' | 'revoked' }]>('invitationSettled');
export const invitationQuery = defineQuery<InvitationView>('invitation');

// ---- Mail, shared by all three.

export interface UndeliveredMail {
  deliveryKey: string;
  kind: MailKind;
  tenantId: string | null;
  workflowId: string;
  cause: string;
}
