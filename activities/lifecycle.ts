import { ApplicationFailure } from '@temporalio/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ApplyTransitionInput, LifecycleStepContext } from '../src/contracts/lifecycle';
import { recordAudit } from '../src/db/audit';
import { AuditEvent, Tenant } from '../src/db/entities';
import { revokeTenantApiKeys } from '../src/db/api-keys';
import type { Orm } from '../src/db/orm';
import { endTenantSessions } from '../src/db/sessions';
import { LIFECYCLE_EVENT, LifecycleRefusal, REFUSED_EVENT, TERMINATED_EVENT, type LifecycleAction, type LifecycleState } from '../src/domain/lifecycle';

export interface LifecycleDependencies {
  orm: Orm;
  now?: () => Date;
}

/**
 * The lifecycle workflow's only way to change `tenant.status`: a compare-and-set on the state it expects, with the
 * audit row in the same transaction. A retry after a commit finds its own audit row and changes nothing.
 */
export function createLifecycleActivities(deps: LifecycleDependencies) {
  const now = deps.now ?? (() => new Date());

  async function setStatus(em: EntityManager, input: ApplyTransitionInput, action: string): Promise<void> {
    const changed = await em.nativeUpdate(Tenant, { id: input.tenantId, status: input.from }, { status: input.to, updatedAt: now() });
    if (changed === 0) {
      const alreadyDone = await em.count(AuditEvent, { idempotencyKey: input.transitionKey });
      if (alreadyDone > 0) return;
      const tenant = await em.findOne(Tenant, { id: input.tenantId });
      throw ApplicationFailure.create({
        type: LifecycleRefusal.StateConflict,
        message: `expected the tenant to be ${input.from}, found ${tenant?.status ?? 'no tenant'}`,
        nonRetryable: true,
      });
    }
    await recordAudit(em, {
      actor: input.actor,
      action,
      entityType: 'tenant',
      entityId: input.tenantId,
      tenantId: input.tenantId,
      fromState: input.from,
      toState: input.to,
      reason: input.reason,
      correlationId: input.workflowId,
      idempotencyKey: input.transitionKey,
      details: input.details ?? null,
    });
    await endSessionsOnClosing(em, input);
  }

  /**
   * Leaving `active` ends every session of the tenant in the same transaction as the status (owners and admins of a
   * suspended tenant may sign in again to read, export and pay). Keys are blocked by the gate while the tenant is not
   * active, and revoked for good when it is terminated.
   */
  async function endSessionsOnClosing(em: EntityManager, input: ApplyTransitionInput): Promise<void> {
    if (input.to === 'active') return;
    const at = now();
    const ended = await endTenantSessions(em, { tenantId: input.tenantId, reason: input.to === 'suspended' ? 'tenant_suspended' : 'tenant_deleted', at });
    const apiKeys = input.action === 'terminate' ? await revokeTenantApiKeys(em, { tenantId: input.tenantId, actor: input.actor, at }) : 0;
    await recordAudit(em, {
      actor: input.actor,
      action: 'tenant.credentials_ended',
      entityType: 'tenant',
      entityId: input.tenantId,
      tenantId: input.tenantId,
      reason: `the tenant became ${input.to.replace('_', ' ')}`,
      correlationId: input.workflowId,
      idempotencyKey: `${input.transitionKey}:credentials_ended`,
      details: { sessionsEnded: ended.memberships, refreshTokensRevoked: ended.refreshTokens, apiKeysRevoked: apiKeys },
    });
  }

  return {
    async applyLifecycleTransition(input: ApplyTransitionInput): Promise<void> {
      await deps.orm.em.fork().transactional((em) => setStatus(em, input, LIFECYCLE_EVENT[input.action]));
    },

    /** Offboarding's last step: pending deletion → terminated, once everything else is gone. */
    async markTenantTerminated(input: ApplyTransitionInput): Promise<void> {
      await deps.orm.em.fork().transactional((em) => setStatus(em, input, TERMINATED_EVENT));
    },

    /** A transition that passed the validator but lost to another one already under way: both attempts are audited. */
    async recordRefusedTransition(
      input: LifecycleStepContext & { action: LifecycleAction; state: LifecycleState; actor: string; reason: string | null; refusal: string; attemptKey: string },
    ): Promise<void> {
      await deps.orm.em.fork().transactional((em) =>
        recordAudit(em, {
          actor: input.actor,
          action: REFUSED_EVENT,
          entityType: 'tenant',
          entityId: input.tenantId,
          tenantId: input.tenantId,
          fromState: input.state,
          toState: input.state,
          reason: input.reason,
          correlationId: input.workflowId,
          idempotencyKey: input.attemptKey,
          details: { action: input.action, refusal: input.refusal },
        }),
      );
    },

    /** Ops override of a stuck onboarding. Refuses when there is nothing left to complete. */
    async forceCompleteOnboarding(input: LifecycleStepContext & { actor: string; reason: string | null; transitionKey: string }): Promise<{ from: string }> {
      return deps.orm.em.fork().transactional(async (em) => {
        const tenant = await em.findOne(Tenant, { id: input.tenantId });
        const from = tenant?.onboardingState ?? null;
        const done = await em.count(AuditEvent, { idempotencyKey: input.transitionKey });
        if (done > 0) return { from: from ?? 'complete' };
        if (!tenant || from === 'complete') {
          throw ApplicationFailure.create({
            type: LifecycleRefusal.NothingToForceComplete,
            message: 'there is no retention wait and no unfinished onboarding to force-complete',
            nonRetryable: true,
          });
        }
        await em.nativeUpdate(Tenant, { id: input.tenantId }, { onboardingState: 'complete', onboardingUpdatedAt: now() });
        await recordAudit(em, {
          actor: input.actor,
          action: 'onboarding.force_completed',
          entityType: 'tenant',
          entityId: input.tenantId,
          tenantId: input.tenantId,
          fromState: from,
          toState: 'complete',
          reason: input.reason,
          correlationId: input.workflowId,
          idempotencyKey: input.transitionKey,
        });
        return { from: from ?? 'none' };
      });
    },
  };
}

export type LifecycleActivities = ReturnType<typeof createLifecycleActivities>;
