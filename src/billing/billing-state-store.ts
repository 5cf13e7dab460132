import type { Orm } from '../db/orm';
import type { Plan, SubscriptionState } from '../domain/tenant-status';

export interface BillingState {
  plan: Plan;
  subscriptionState: SubscriptionState;
  trialEndsAt: Date | null;
}

/** Where billing state lives. Postgres now; a payment provider's API could answer the same question later. */
export interface BillingStateStore {
  read(tenantId: string): Promise<BillingState | undefined>;
}

export function createPostgresBillingStateStore(orm: Orm): BillingStateStore {
  return {
    async read(tenantId) {
      const rows = await orm.em.fork().execute<Array<{ plan: Plan; subscription_state: SubscriptionState; trial_ends_at: Date | string | null }>>(
        'select plan, subscription_state, trial_ends_at from billing_account where tenant_id = ?',
        [tenantId],
      );
      const row = rows[0];
      if (!row) return undefined;
      return { plan: row.plan, subscriptionState: row.subscription_state, trialEndsAt: row.trial_ends_at === null ? null : new Date(row.trial_ends_at) };
    },
  };
}
