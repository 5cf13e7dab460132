/**
 * Sandbox-safe contract of the billing trial timer, shared by the workflow, its activities, the API and tests.
 * Imports nothing that touches Node APIs.
 */
import { defineQuery } from '@temporalio/workflow';
import type { SubscriptionState } from '../domain/tenant-status';

export interface BillingTrialInput {
  tenantId: string;
  /**
   * The schedule as the provisioning saga's openTrialBilling committed it, read in that transaction: the timer then
   * starts without reading it again. Absent (any other start, or a timer started before the saga passed it), the timer
   * reads it from the billing account.
   */
  schedule?: TrialSchedule;
}

/**
 * `trial` and `grace` wait on a durable timer; `expired` is the end of an unpaid trial; `superseded` means someone
 * else (an operator, a payment) moved the subscription on, so the timer had nothing left to do; `closed` means the
 * billing account is gone.
 */
export type BillingTrialPhase = 'trial' | 'grace' | 'expired' | 'superseded' | 'closed';

export interface BillingTrialStatus {
  tenantId: string;
  phase: BillingTrialPhase;
  trialEndsAt: string | null;
  graceEndsAt: string | null;
  /** The subscription state the last activity saw. */
  subscriptionState: SubscriptionState | null;
}

export const billingTrialStatusQuery = defineQuery<BillingTrialStatus>('billingTrialStatus');

/** Activity input of the timer's transitions. */
export interface TrialTransitionInput {
  tenantId: string;
  workflowId: string;
  /** Names the trial being ended, so a later trial (re-opened by an operator) gets its own audit row. */
  trialEndsAt: string;
}

export interface TrialSchedule {
  subscriptionState: SubscriptionState;
  trialEndsAt: string | null;
}
