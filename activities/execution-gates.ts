import { Limits } from '../src/domain/limits';
import type { Plan, SubscriptionState } from '../src/domain/tenant-status';
import { billingRunDecision } from '../src/gates/billing-gate';
import { runExecutionSwitchDecision, type KillSwitches } from '../src/gates/kill-switch-gate';
import type { ExecutionGate } from './run';

/**
 * The gates authorizeRun adds to lifecycle and step count, inside its transaction: the run kill switch, then whether
 * the plan allows runs at all and a plan of this many steps, read from billing_account in that transaction (no cache:
 * a run is authorised once, on the truth).
 * Abuse protection's rate and concurrency ceilings are judged at submission, where the run is not yet counted.
 */
export function workerExecutionGates(switches: KillSwitches): ExecutionGate[] {
  return [
    async () => runExecutionSwitchDecision(switches),
    async (em, request) => {
      const rows = await em.execute<Array<{ plan: Plan; subscription_state: SubscriptionState }>>(
        'select plan, subscription_state from billing_account where tenant_id = ?',
        [request.tenantId],
      );
      const account = rows[0];
      const limits = account ? Limits.derive(account.plan, account.subscription_state) : Limits.trialEquivalent();
      return billingRunDecision(limits, account?.subscription_state ?? 'unknown', request.stepCount);
    },
  ];
}
