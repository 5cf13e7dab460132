import { allow, block, type GateDecision } from '../domain/gate-decision';
import type { EmailVerificationState } from '../domain/email-verification';

/**
 * Until its owner verifies the signup's email a tenant works within the operator's UNVERIFIED_* limits: at most that
 * many live API keys, at most that many runs a day. A verified tenant (or one never asked to verify) passes.
 */
export function unverifiedApiKeyDecision(state: EmailVerificationState, liveKeys: number, allowedKeys: number): GateDecision {
  if (state !== 'pending' || liveKeys < allowedKeys) return allow('verification');
  return block('verification', allowedKeys === 0 ? "verify the owner's email to create API keys" : `an unverified tenant may hold ${allowedKeys} API keys; verify the owner's email for more`);
}

export function unverifiedRunDecision(state: EmailVerificationState, startedLastDay: number, allowedPerDay: number): GateDecision {
  if (state !== 'pending' || startedLastDay < allowedPerDay) return allow('verification');
  return block('verification', `an unverified tenant may start ${allowedPerDay} runs a day; verify the owner's email to lift the limit`);
}
