import type { EntityManager } from '@mikro-orm/postgresql';
import type { TrialSchedule, TrialTransitionInput } from '../src/contracts/billing';
import { recordAudit } from '../src/db/audit';
import type { Orm } from '../src/db/orm';
import type { SubscriptionState } from '../src/domain/tenant-status';

const ACTOR = 'system:billing';

/**
 * The trial timer's effects on billing_account. Each transition is a guarded update (only from the state it expects,
 * and of the trial it expects, so an operator's or a payment's change always wins over the timer) with its audit row in the same transaction, and
 * answers with the state it left behind, so a retry finds the work done and says so.
 */
export function createBillingActivities(deps: { orm: Orm; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());

  async function transition(input: TrialTransitionInput, from: SubscriptionState, to: SubscriptionState, action: string): Promise<SubscriptionState | null> {
    return deps.orm.em.fork().transactional(async (em: EntityManager) => {
      // Only the trial this timer was started for: a timer left over from before an operator re-armed the trial (a new
      // end date) changes nothing. The same end to the millisecond, as the timer read it through JS.
      const moved = await em.execute<{ affectedRows: number }>(
        `update billing_account set subscription_state = ?, updated_at = ?
           where tenant_id = ? and subscription_state = ?
             and trial_ends_at > ?::timestamptz - interval '1 millisecond' and trial_ends_at < ?::timestamptz + interval '1 millisecond'`,
        [to, now(), input.tenantId, from, input.trialEndsAt, input.trialEndsAt],
        'run',
      );
      if (moved.affectedRows > 0) {
        await recordAudit(em, {
          actor: ACTOR,
          action,
          entityType: 'billing_account',
          entityId: input.tenantId,
          tenantId: input.tenantId,
          fromState: from,
          toState: to,
          correlationId: input.workflowId,
          idempotencyKey: `${input.tenantId}:${action}:${input.trialEndsAt}`,
        });
      }
      const rows = await em.execute<Array<{ subscription_state: SubscriptionState }>>('select subscription_state from billing_account where tenant_id = ?', [input.tenantId]);
      return rows[0]?.subscription_state ?? null;
    });
  }

  return {
    /** When the trial ends, from the billing account itself: the timer never keeps a second copy of the date. */
    async readTrialSchedule(input: { tenantId: string }): Promise<TrialSchedule | null> {
      const rows = await deps.orm.em.fork().execute<Array<{ subscription_state: SubscriptionState; trial_ends_at: Date | string | null }>>(
        'select subscription_state, trial_ends_at from billing_account where tenant_id = ?',
        [input.tenantId],
      );
      const row = rows[0];
      if (!row) return null;
      return { subscriptionState: row.subscription_state, trialEndsAt: row.trial_ends_at === null ? null : new Date(row.trial_ends_at).toISOString() };
    },

    endTrial(input: TrialTransitionInput): Promise<SubscriptionState | null> {
      return transition(input, 'trial', 'grace', 'billing.trial_ended');
    },

    expireGrace(input: TrialTransitionInput): Promise<SubscriptionState | null> {
      return transition(input, 'grace', 'expired', 'billing.grace_expired');
    },
  };
}

export type BillingActivities = ReturnType<typeof createBillingActivities>;
