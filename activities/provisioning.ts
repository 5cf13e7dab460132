import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ProvisioningFailure, type FailedCompensation, type ProvisioningFailureType, type ProvisioningStep, type StepContext } from '../src/contracts/provisioning';
import { auditRow, executeWithAudit, recordAudit, type AuditedStatement, type AuditEntry } from '../src/db/audit';
import { BillingAccount, Tenant, TenantMembership } from '../src/db/entities';
import type { Orm } from '../src/db/orm';
import { reserveTenantName } from '../src/db/signup-names';
import { createTenantTables, dropTenantTables } from '../src/db/tenant-schema';
import { TRIAL_DAYS, type SubscriptionState } from '../src/domain/tenant-status';
import type { TrialSchedule } from '../src/contracts/billing';
import { DAY_MS } from '../src/domain/duration';

export interface ProvisioningDependencies {
  orm: Orm;
  now?: () => Date;
}

const ACTOR = 'system:provisioning';

/**
 * One activity per saga step, each with its compensation beside it. Forward steps are check-then-act inside one
 * transaction with the audit row; compensations are safe for a step that never ran or ran half.
 */
export function createProvisioningActivities(deps: ProvisioningDependencies) {
  const now = deps.now ?? (() => new Date());

  const step = (effect: (em: EntityManager) => Promise<void>) => deps.orm.em.fork().transactional(effect);
  const auditEntry = (context: StepContext, action: string, extra: { from?: string; to?: string; reason?: string; details?: Record<string, unknown> } = {}): AuditEntry => ({
      actor: ACTOR,
      action,
      entityType: 'tenant',
      entityId: context.tenantId,
      tenantId: context.tenantId,
      fromState: extra.from,
      toState: extra.to,
      reason: extra.reason,
      details: extra.details,
      correlationId: context.workflowId,
      idempotencyKey: `${context.tenantId}:${action}`,
    });
  const audit = (em: EntityManager, context: StepContext, action: string, extra: Parameters<typeof auditEntry>[2] = {}) => recordAudit(em, auditEntry(context, action, extra));
  /** A forward step that is one statement with its audit row (executeWithAudit): one round trip, no transaction. */
  const changeWithAudit = <Row extends object>(statement: AuditedStatement, entry: AuditEntry) =>
    executeWithAudit<Row>(deps.orm.em.fork(), statement, auditRow(entry));

  return {
    /**
     * Reserves the slug. Given the owner's address (sagas from patch 'registered-email-decoy' on), an address that
     * already has an account reserves nothing and says so: the saga then runs its decoy, which writes no tenant.
     */
    async reserveTenant(input: StepContext & { slug: string; orgName: string; ownerEmail?: string }): Promise<{ ownerRegistered: boolean }> {
      // The row is ours if this statement inserted it or an earlier attempt did; a slug held by anyone else (committed
      // before, or concurrently: the insert then waits and does nothing) is refused, and nothing is written. Sagas from
      // before the patch pass no address and are never screened.
      const audit = auditEntry(input, 'tenant.reserved', { to: 'provisioning', details: { slug: input.slug } });
      const reservation = await reserveTenantName(deps.orm.em.fork(), { ...input, ownerEmail: input.ownerEmail ?? null, at: now() }, audit);
      // A held name is refused whoever asks, so a registered address meets the same refusal as a fresh one.
      if (reservation.ownerRegistered && reservation.holder === null) return { ownerRegistered: true };
      if (reservation.holder !== input.tenantId) throw fail(ProvisioningFailure.SlugTaken, `slug ${input.slug} is held by another tenant`);
      return { ownerRegistered: false };
    },

    async releaseTenant(context: StepContext): Promise<void> {
      await deps.orm.em.fork().transactional(async (em) => {
        // Only a tenant still held by this saga: an active or foreign row is never removed by a rollback.
        const released = await em.nativeDelete(Tenant, { id: context.tenantId, status: 'provisioning' });
        if (released > 0) await audit(em, context, 'tenant.released', { from: 'provisioning' });
      });
    },

    async createOwner(input: StepContext & { email: string; passwordHash: string }): Promise<void> {
      // One statement: the user (unless an earlier attempt made it), the owner membership and the audit event. An
      // email that belongs to anyone else (committed before, or concurrently: the insert then does nothing) is refused.
      const email = input.email.toLowerCase();
      const userId = randomUUID();
      const at = now();
      const owner = await changeWithAudit<{ owner: string | null }>(
        {
          ctes: `existing as (select id, created_by_tenant_id from app_user where email = ?),
                 created as (
                   insert into app_user (id, email, password_hash, created_by_tenant_id, created_at)
                     select ?, ?, ?, ?, ? where not exists (select 1 from existing) on conflict (email) do nothing returning id),
                 owner as (select id from created union all select id from existing where created_by_tenant_id = ?::uuid),
                 joined as (
                   insert into tenant_membership (id, tenant_id, user_id, role, created_at)
                     select ?, ?, id, 'owner', ? from owner on conflict (tenant_id, user_id) do nothing)`,
          params: [email, userId, email, input.passwordHash, input.tenantId, at, input.tenantId, randomUUID(), input.tenantId, at],
          auditWhen: { sql: 'exists (select 1 from owner)' },
          select: '(select id from owner) as owner',
        },
        // Written once per tenant (its key): a retry that finds the user from an earlier attempt adds nothing.
        auditEntry(input, 'tenant.owner_created', { details: { userId, role: 'owner' } }),
      );
      if (!owner?.owner) throw fail(ProvisioningFailure.EmailRegistered, 'the email belongs to an existing account');
    },

    async removeOwner(context: StepContext): Promise<void> {
      await deps.orm.em.fork().transactional(async (em) => {
        const removedMemberships = await em.nativeDelete(TenantMembership, { tenant: context.tenantId });
        // The user goes only if this signup created it and nothing else holds it.
        const removedUsers = await em.getConnection().execute<{ affectedRows: number }>(
          `delete from app_user u where u.created_by_tenant_id = ?
             and not exists (select 1 from tenant_membership m where m.user_id = u.id)`,
          [context.tenantId],
          'run',
          em.getTransactionContext(),
        );
        if (removedMemberships > 0 || removedUsers.affectedRows > 0) await audit(em, context, 'tenant.owner_removed');
      });
    },

    /** The trial's billing account; says its schedule as committed (this attempt's, or an earlier one's), for the trial timer. */
    async openTrialBilling(context: StepContext): Promise<TrialSchedule> {
      const at = now();
      const trialEndsAt = new Date(at.getTime() + TRIAL_DAYS * DAY_MS);
      const opened = await changeWithAudit<{ subscription_state: SubscriptionState; trial_ends_at: Date | string | null }>(
        {
          ctes: `opened as (
                   insert into billing_account (tenant_id, plan, subscription_state, trial_ends_at, created_at, updated_at)
                     values (?, 'trial', 'trial', ?, ?, ?) on conflict (tenant_id) do nothing returning subscription_state, trial_ends_at),
                 account as (select subscription_state, trial_ends_at from opened
                             union all select subscription_state, trial_ends_at from billing_account where tenant_id = ? and not exists (select 1 from opened))`,
          params: [context.tenantId, trialEndsAt, at, at, context.tenantId],
          select: '(select subscription_state from account) as subscription_state, (select trial_ends_at from account) as trial_ends_at',
        },
        auditEntry(context, 'billing.trial_opened', { to: 'trial', details: { plan: 'trial' } }),
      );
      const endsAt = opened?.trial_ends_at ?? null;
      return { subscriptionState: opened!.subscription_state, trialEndsAt: endsAt === null ? null : new Date(endsAt).toISOString() };
    },

    async closeBilling(context: StepContext): Promise<void> {
      await deps.orm.em.fork().transactional(async (em) => {
        const closed = await em.nativeDelete(BillingAccount, { tenant: context.tenantId });
        if (closed > 0) await audit(em, context, 'billing.closed', { from: 'trial' });
      });
    },

    async createTenantSchema(context: StepContext): Promise<void> {
      await step(async (em) => {
        await createTenantTables(em, context.tenantId);
        await audit(em, context, 'tenant.schema_created');
      });
    },

    async dropTenantSchema(context: StepContext): Promise<void> {
      await deps.orm.em.fork().transactional(async (em) => {
        await dropTenantTables(em, context.tenantId);
        await audit(em, context, 'tenant.schema_dropped');
      });
    },

    async initOnboarding(context: StepContext): Promise<void> {
      await changeWithAudit(
        {
          ctes: `initialised as (update tenant set onboarding_state = 'provisioned', onboarding_updated_at = ? where id = ? and onboarding_state is null)`,
          params: [now(), context.tenantId],
          select: '1 as done',
        },
        auditEntry(context, 'onboarding.initialised', { to: 'provisioned' }),
      );
    },

    async resetOnboarding(context: StepContext): Promise<void> {
      await deps.orm.em.fork().transactional(async (em) => {
        await em.nativeUpdate(Tenant, { id: context.tenantId, status: 'provisioning' }, { onboardingState: null, onboardingUpdatedAt: null });
      });
    },

    async activateTenant(context: StepContext): Promise<void> {
      // `current` is the status before this statement: provisioning when it activates now, active after an earlier attempt.
      const activated = await changeWithAudit<{ activated: string; status: string | null }>(
        {
          ctes: `activated as (update tenant set status = 'active', updated_at = ? where id = ? and status = 'provisioning' returning id),
                 current as (select status from tenant where id = ?)`,
          params: [now(), context.tenantId, context.tenantId],
          auditWhen: { sql: `exists (select 1 from activated) or (select status from current) = 'active'` },
          select: `(select count(*) from activated) as activated, (select status from current) as status`,
        },
        auditEntry(context, 'tenant.activated', { from: 'provisioning', to: 'active' }),
      );
      if (Number(activated?.activated ?? 0) === 0 && activated?.status !== 'active') {
        throw fail(ProvisioningFailure.Internal, `tenant is ${activated?.status ?? 'missing'}`);
      }
    },

    async deactivateTenant(context: StepContext): Promise<void> {
      await deps.orm.em.fork().transactional(async (em) => {
        const reverted = await em.nativeUpdate(Tenant, { id: context.tenantId, status: 'active' }, { status: 'provisioning', updatedAt: now() });
        if (reverted > 0) await audit(em, context, 'tenant.deactivated', { from: 'active', to: 'provisioning' });
      });
    },

    /**
     * Keeps the cause of a rolled-back signup in the audit trail after every row it made is gone. A rollback that
     * could not finish is recorded as an incident for operators, with each compensation that failed and why.
     */
    async recordProvisioningFailure(
      input: StepContext & { step: ProvisioningStep; type: ProvisioningFailureType; cause: string; failedCompensations?: FailedCompensation[] },
    ): Promise<void> {
      await deps.orm.em.fork().transactional(async (em) => {
        await audit(em, input, 'provisioning.failed', { reason: input.cause, details: { step: input.step, type: input.type } });
        if (input.failedCompensations?.length) {
          await audit(em, input, 'provisioning.rollback_incomplete', {
            reason: 'a compensation failed for good: finish the clean-up by hand',
            details: { failedCompensations: input.failedCompensations },
          });
        }
      });
    },
  };
}

export type ProvisioningActivities = ReturnType<typeof createProvisioningActivities>;

function fail(type: ProvisioningFailureType, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}
