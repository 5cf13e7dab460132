import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ProvisioningFailure, type FailedCompensation, type ProvisioningFailureType, type ProvisioningStep, type StepContext } from '../src/contracts/provisioning';
import { recordAudit } from '../src/db/audit';
import { BillingAccount, Tenant, TenantMembership, User } from '../src/db/entities';
import type { Orm } from '../src/db/orm';
import { createTenantTables, dropTenantTables } from '../src/db/tenant-schema';
import { TRIAL_DAYS } from '../src/domain/tenant-status';
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
  const audit = (em: EntityManager, context: StepContext, action: string, extra: { from?: string; to?: string; reason?: string; details?: Record<string, unknown> } = {}) =>
    recordAudit(em, {
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

  return {
    async reserveTenant(input: StepContext & { slug: string; orgName: string }): Promise<void> {
      await step(async (em) => {
        await em
          .createQueryBuilder(Tenant)
          .insert({
            id: input.tenantId,
            slug: input.slug,
            name: input.orgName,
            status: 'provisioning',
            provisioningWorkflowId: input.workflowId,
            createdAt: now(),
            updatedAt: now(),
          })
          .onConflict()
          .ignore()
          .execute();
        const holder = await em.findOne(Tenant, { slug: input.slug });
        if (holder?.id !== input.tenantId) {
          throw fail(ProvisioningFailure.SlugTaken, `slug ${input.slug} is held by another tenant`);
        }
        await audit(em, input, 'tenant.reserved', { to: 'provisioning', details: { slug: input.slug } });
      });
    },

    async releaseTenant(context: StepContext): Promise<void> {
      await deps.orm.em.fork().transactional(async (em) => {
        // Only a tenant still held by this saga: an active or foreign row is never removed by a rollback.
        const released = await em.nativeDelete(Tenant, { id: context.tenantId, status: 'provisioning' });
        if (released > 0) await audit(em, context, 'tenant.released', { from: 'provisioning' });
      });
    },

    async createOwner(input: StepContext & { email: string; passwordHash: string }): Promise<void> {
      await step(async (em) => {
        const email = input.email.toLowerCase();
        let owner = await em.findOne(User, { email });
        if (owner && owner.createdByTenantId !== input.tenantId) {
          throw fail(ProvisioningFailure.EmailRegistered, 'the email belongs to an existing account');
        }
        if (!owner) {
          owner = em.create(User, { id: randomUUID(), email, passwordHash: input.passwordHash, createdByTenantId: input.tenantId, createdAt: now() });
          await em.flush();
        }
        await em
          .createQueryBuilder(TenantMembership)
          .insert({ id: randomUUID(), tenant: input.tenantId, user: owner.id, role: 'owner', createdAt: now() })
          .onConflict(['tenant_id', 'user_id'])
          .ignore()
          .execute();
        await audit(em, input, 'tenant.owner_created', { details: { userId: owner.id, role: 'owner' } });
      });
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

    async openTrialBilling(context: StepContext): Promise<void> {
      await step(async (em) => {
        const trialEndsAt = new Date(now().getTime() + TRIAL_DAYS * DAY_MS);
        await em
          .createQueryBuilder(BillingAccount)
          .insert({ tenant: context.tenantId, plan: 'trial', subscriptionState: 'trial', trialEndsAt, createdAt: now(), updatedAt: now() })
          .onConflict('tenant_id')
          .ignore()
          .execute();
        await audit(em, context, 'billing.trial_opened', { to: 'trial', details: { plan: 'trial' } });
      });
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
      await step(async (em) => {
        await em.nativeUpdate(Tenant, { id: context.tenantId, onboardingState: null }, { onboardingState: 'provisioned', onboardingUpdatedAt: now() });
        await audit(em, context, 'onboarding.initialised', { to: 'provisioned' });
      });
    },

    async resetOnboarding(context: StepContext): Promise<void> {
      await deps.orm.em.fork().transactional(async (em) => {
        await em.nativeUpdate(Tenant, { id: context.tenantId, status: 'provisioning' }, { onboardingState: null, onboardingUpdatedAt: null });
      });
    },

    async activateTenant(context: StepContext): Promise<void> {
      await step(async (em) => {
        const activated = await em.nativeUpdate(Tenant, { id: context.tenantId, status: 'provisioning' }, { status: 'active', updatedAt: now() });
        if (activated === 0) {
          const tenant = await em.findOne(Tenant, { id: context.tenantId });
          if (tenant?.status !== 'active') throw fail(ProvisioningFailure.Internal, `tenant is ${tenant?.status ?? 'missing'}`);
        }
        await audit(em, context, 'tenant.activated', { from: 'provisioning', to: 'active' });
      });
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
