import { randomUUID } from 'node:crypto';
import type { BillingStateSource } from '../billing/billing-state-source';
import { recordAudit } from '../db/audit';
import type { Orm } from '../db/orm';
import { Limits } from '../domain/limits';
import type { Plan, SubscriptionState } from '../domain/tenant-status';

export interface BillingStateRecord {
  tenantId: string;
  plan: Plan;
  subscriptionState: SubscriptionState;
  trialEndsAt: string | null;
  limits: Limits;
}

export interface BillingStateChange {
  subscriptionState: SubscriptionState;
  plan?: Plan;
  reason: string;
}

export type SetBillingStateOutcome = { kind: 'changed' | 'unchanged'; record: BillingStateRecord } | { kind: 'not_found' };

interface BillingRow {
  plan: Plan;
  subscription_state: SubscriptionState;
  trial_ends_at: Date | string | null;
}

const record = (tenantId: string, row: BillingRow): BillingStateRecord => ({
  tenantId,
  plan: row.plan,
  subscriptionState: row.subscription_state,
  trialEndsAt: row.trial_ends_at === null ? null : new Date(row.trial_ends_at).toISOString(),
  limits: Limits.derive(row.plan, row.subscription_state),
});

/** The operators' view of a tenant's billing account: read straight from Postgres, changed only with an audit row. */
export function createBillingStateService(deps: { orm: Orm; source: BillingStateSource; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  return {
    async read(tenantId: string): Promise<BillingStateRecord | undefined> {
      const rows = await deps.orm.em.fork().execute<BillingRow[]>('select plan, subscription_state, trial_ends_at from billing_account where tenant_id = ?', [tenantId]);
      return rows[0] && record(tenantId, rows[0]);
    },

    async set(tenantId: string, change: BillingStateChange, actor: string): Promise<SetBillingStateOutcome> {
      const outcome = await deps.orm.em.fork().transactional(async (em): Promise<SetBillingStateOutcome> => {
        const rows = await em.execute<BillingRow[]>('select plan, subscription_state, trial_ends_at from billing_account where tenant_id = ? for update', [tenantId]);
        const current = rows[0];
        if (!current) return { kind: 'not_found' };
        const plan = change.plan ?? current.plan;
        if (plan === current.plan && change.subscriptionState === current.subscription_state) return { kind: 'unchanged', record: record(tenantId, current) };
        await em.execute('update billing_account set plan = ?, subscription_state = ?, updated_at = ? where tenant_id = ?', [plan, change.subscriptionState, now(), tenantId]);
        await recordAudit(em, {
          actor,
          action: 'billing.state_set',
          entityType: 'billing_account',
          entityId: tenantId,
          tenantId,
          fromState: current.subscription_state,
          toState: change.subscriptionState,
          reason: change.reason,
          details: { fromPlan: current.plan, toPlan: plan },
          // An operator's PUT is one deliberate act each time; there is no retry to deduplicate.
          idempotencyKey: `billing_account:${tenantId}:set:${randomUUID()}`,
        });
        return { kind: 'changed', record: record(tenantId, { ...current, plan, subscription_state: change.subscriptionState }) };
      });
      if (outcome.kind === 'changed') deps.source.invalidate(tenantId);
      return outcome;
    },
  };
}

export type BillingStateService = ReturnType<typeof createBillingStateService>;
