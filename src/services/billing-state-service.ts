import { randomUUID } from 'node:crypto';
import type { BillingStateSource } from '../billing/billing-state-source';
import { recordAudit } from '../db/audit';
import type { Orm } from '../db/orm';
import { DAY_MS } from '../domain/duration';
import { Limits } from '../domain/limits';
import { TRIAL_DAYS, type Plan, type SubscriptionState } from '../domain/tenant-status';

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

/**
 * The tenant's trial timer (workflows/billing.ts): `restart` replaces any timer with one that reads the trial end date
 * Postgres holds now, so calling it again changes nothing but the timer's run.
 */
export interface TrialTimer {
  restart(tenantId: string): Promise<void>;
}

/**
 * The operators' view of a tenant's billing account: read straight from Postgres, changed only with an audit row. Back
 * to `trial` from any other state re-arms the trial: a new end date TRIAL_DAYS from now, audited, and its timer
 * restarted once that is committed.
 */
export function createBillingStateService(deps: { orm: Orm; source: BillingStateSource; now?: () => Date; trialTimer?: TrialTimer }) {
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
        const rearmsTrial = change.subscriptionState === 'trial' && current.subscription_state !== 'trial';
        const newTrialEndsAt = rearmsTrial ? new Date(now().getTime() + TRIAL_DAYS * DAY_MS) : null;
        await em.execute('update billing_account set plan = ?, subscription_state = ?, trial_ends_at = coalesce(?, trial_ends_at), updated_at = ? where tenant_id = ?', [
          plan,
          change.subscriptionState,
          newTrialEndsAt,
          now(),
          tenantId,
        ]);
        const changeId = randomUUID();
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
          idempotencyKey: `billing_account:${tenantId}:set:${changeId}`,
        });
        if (newTrialEndsAt) {
          await recordAudit(em, {
            actor,
            action: 'billing.trial_rearmed',
            entityType: 'billing_account',
            entityId: tenantId,
            tenantId,
            fromState: current.subscription_state,
            toState: 'trial',
            reason: change.reason,
            details: { previousTrialEndsAt: current.trial_ends_at === null ? null : new Date(current.trial_ends_at).toISOString(), trialEndsAt: newTrialEndsAt.toISOString() },
            idempotencyKey: `billing_account:${tenantId}:trial_rearmed:${changeId}`,
          });
        }
        return { kind: 'changed', record: record(tenantId, { ...current, plan, subscription_state: change.subscriptionState, trial_ends_at: newTrialEndsAt ?? current.trial_ends_at }) };
      });
      if (outcome.kind === 'changed') deps.source.invalidate(tenantId);
      // After the commit, so the timer reads the new end date. Whenever the tenant is on trial, not only when it was
      // re-armed: if the start failed after the commit, the same PUT again (unchanged) still brings the timer up.
      if (outcome.kind !== 'not_found' && outcome.record.subscriptionState === 'trial') await deps.trialTimer?.restart(tenantId);
      return outcome;
    },
  };
}

export type BillingStateService = ReturnType<typeof createBillingStateService>;
