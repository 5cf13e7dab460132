import { ProvisioningFailure, type ProvisioningFailureType } from './provisioning-failure';
import { PROVISIONING_FAILURE_MESSAGES } from './provisioning-messages';

/**
 * A saga's outcome so far. `rollback_failed`: a compensation failed for good; the saga ended, left an incident, and
 * needs an operator. `existing_account_notified`: the decoy of a signup whose address already has an account (issue 21 item 6): nothing
 * was created, the address's owner was told by mail. Operators see it; the public view shows it as `active`.
 */
export type ProvisioningOutcome = 'running' | 'rolling_back' | 'active' | 'failed' | 'rollback_failed' | 'existing_account_notified';

/** What anyone who knows a signup's id may read of it: coarse, so it never tells whether the address had an account. */
export type PublicSignupOutcome = 'running' | 'active' | 'failed';

export interface PublicSignupProgress {
  outcome: PublicSignupOutcome;
  detail: string;
}

const RUNNING = 'Your organisation is being set up.';
const ACCEPTED = 'Accepted: check your email to continue.';

/**
 * The public view of a saga's progress (issue 21 item 6). The steps, their timing and the failure types stay with
 * operators: a step list would show how far a decoy got, and a failure type named the existing account. A signup whose
 * address had an account reads exactly as an active one does (so does one that failed on it, from before the decoy).
 */
export function publicSignupProgress(progress: { outcome: ProvisioningOutcome; failure?: { type: ProvisioningFailureType } }): PublicSignupProgress {
  switch (progress.outcome) {
    case 'running':
    case 'rolling_back':
      return { outcome: 'running', detail: RUNNING };
    case 'active':
    case 'existing_account_notified':
      return { outcome: 'active', detail: ACCEPTED };
    case 'failed':
    case 'rollback_failed': {
      const type = progress.failure?.type ?? ProvisioningFailure.Internal;
      if (type === ProvisioningFailure.EmailRegistered) return { outcome: 'active', detail: ACCEPTED };
      return { outcome: 'failed', detail: PROVISIONING_FAILURE_MESSAGES[type] };
    }
  }
}
