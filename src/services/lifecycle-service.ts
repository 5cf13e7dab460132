import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, type UpdateDefinition } from '@temporalio/common';
import {
  forceCompleteTenantUpdate,
  lifecycleStateQuery,
  restoreUpdate,
  softDeleteUpdate,
  suspendUpdate,
  terminateTenantUpdate,
  unsuspendUpdate,
  type LifecycleRequest,
  type LifecycleView,
  type SoftDeleteRequest,
  type TransitionAnswer,
} from '../contracts/lifecycle';
import { Tenant } from '../db/entities';
import type { Orm } from '../db/orm';
import { isLifecycleState, LifecycleRefusal, lifecycleRefusal, SYSTEM_TENANT_ID, type LifecycleAction, type LifecycleRefusalType, type Refusal } from '../domain/lifecycle';
import { isTemporalUnavailable } from '../temporal/temporal-errors';
import { tenantLifecycleWorkflowId } from '../temporal/workflow-ids';
import { createLifecycleStarter } from './lifecycle-starter';

const LIVE_VIEW_TIMEOUT_MS = 3_000;

export type TransitionOutcome = { kind: 'done'; answer: TransitionAnswer } | { kind: 'not_found' } | { kind: 'refused'; refusal: Refusal };

const UPDATES: Record<LifecycleAction, UpdateDefinition<TransitionAnswer, [LifecycleRequest]>> = {
  suspend: suspendUpdate,
  unsuspend: unsuspendUpdate,
  softDelete: softDeleteUpdate,
  restore: restoreUpdate,
  terminate: terminateTenantUpdate,
  forceComplete: forceCompleteTenantUpdate,
};

export interface TenantAdminView {
  tenantId: string;
  /** Null once a purged, never-verified signup gave its name back; releasedSlug says what it was. */
  slug: string | null;
  releasedSlug: string | null;
  name: string;
  /** `tenant.status` in Postgres: what every gate reads. */
  state: string;
  onboarding: { state: string | null; since: string | null };
  /** The lifecycle workflow's own view while it runs (retention deadline, offboarding); null when none runs or it does not answer in time. */
  lifecycle: LifecycleView | null;
  history: Array<{ action: string; from: string | null; to: string | null; actor: string; reason: string | null; at: string; workflowId: string | null }>;
  createdAt: string;
}

export interface StalledOnboarding {
  tenantId: string;
  slug: string;
  onboardingState: string;
  since: string;
}

/**
 * What the admin routes call to steer a tenant. Postgres answers who exists and what state they are in; the tenant's
 * lifecycle workflow makes every change, so the same rules hold for the API, the Temporal CLI and the Web UI.
 */
export function createLifecycleService(deps: { client: Client; orm: Orm; taskQueue: string; retentionDays: number }) {
  const findTenant = (tenantId: string) => deps.orm.em.fork().findOne(Tenant, { id: tenantId });
  const starter = createLifecycleStarter(deps);

  /** The tenant's workflow, started here when it has none (see createLifecycleStarter). */
  const lifecycleOf = (tenant: Tenant) => starter.start(tenant, { taskQueue: deps.taskQueue, retentionDays: deps.retentionDays });

  /**
   * The running workflow's own view (retention deadline, offboarding). Only a running one is asked, and not for long:
   * a query needs a worker, and the admin view must answer from Postgres even when workers are down.
   */
  async function liveView(tenantId: string): Promise<LifecycleView | null> {
    const handle = deps.client.workflow.getHandle(tenantLifecycleWorkflowId(tenantId));
    try {
      // Both calls within the bound: the view answers from Postgres while Temporal is down or frozen, too.
      return await deps.client.connection.withDeadline(Date.now() + LIVE_VIEW_TIMEOUT_MS, async () => {
        if ((await handle.describe()).status.name !== 'RUNNING') return null;
        return handle.query(lifecycleStateQuery);
      });
    } catch (error) {
      if (error instanceof WorkflowNotFoundError || isTemporalUnavailable(error)) return null;
      throw error;
    }
  }

  return {
    async transition(tenantId: string, action: LifecycleAction, request: LifecycleRequest | SoftDeleteRequest): Promise<TransitionOutcome> {
      const tenant = await findTenant(tenantId);
      if (!tenant) return { kind: 'not_found' };
      if (tenant.status === 'provisioning') {
        return { kind: 'refused', refusal: { type: LifecycleRefusal.Provisioning, message: 'the tenant is still being provisioned' } };
      }
      // Refusals that need no workflow (terminated, the system tenant) are answered from Postgres at once.
      if (tenant.status === 'terminated' || tenant.id === SYSTEM_TENANT_ID) {
        const refusal = lifecycleRefusal({ tenantId, state: isLifecycleState(tenant.status) ? tenant.status : 'active', offboarding: false }, action);
        if (refusal) return { kind: 'refused', refusal };
      }
      const handle = await lifecycleOf(tenant);
      try {
        return { kind: 'done', answer: await handle.executeUpdate(UPDATES[action], { args: [request] }) };
      } catch (error) {
        // The workflow's validator (or its re-judgement after a concurrent transition) refused: nothing changed.
        if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
          return { kind: 'refused', refusal: { type: (error.cause.type ?? LifecycleRefusal.NotAllowed) as LifecycleRefusalType, message: error.cause.message } };
        }
        throw error;
      }
    },

    async view(tenantId: string): Promise<TenantAdminView | undefined> {
      const tenant = await findTenant(tenantId);
      if (!tenant) return undefined;
      const lifecycle = await liveView(tenantId);
      const history = await deps.orm.em.fork().execute<
        Array<{ action: string; from_state: string | null; to_state: string | null; actor: string; reason: string | null; at: Date; correlation_id: string | null }>
      >(
        `select action, from_state, to_state, actor, reason, at, correlation_id from audit_event
           where tenant_id = ? and entity_type = 'tenant' and (action like 'lifecycle.%' or action like 'onboarding.%' or action like 'offboarding.%' or action like 'tenant.%')
           order by id desc limit 100`,
        [tenantId],
      );
      return {
        tenantId: tenant.id,
        slug: tenant.slug,
        releasedSlug: tenant.releasedSlug ?? null,
        name: tenant.name,
        state: tenant.status,
        onboarding: { state: tenant.onboardingState ?? null, since: tenant.onboardingUpdatedAt?.toISOString() ?? null },
        lifecycle,
        history: history.map((row) => ({
          action: row.action,
          from: row.from_state,
          to: row.to_state,
          actor: row.actor,
          reason: row.reason,
          at: new Date(row.at).toISOString(),
          workflowId: row.correlation_id,
        })),
        createdAt: tenant.createdAt.toISOString(),
      };
    },

    /** Live tenants whose onboarding has not moved for `olderThanHours`, the longest stalled first. */
    async stalledOnboardings(olderThanHours: number, limit: number): Promise<StalledOnboarding[]> {
      const rows = await deps.orm.em.fork().execute<Array<{ id: string; slug: string; onboarding_state: string; onboarding_updated_at: Date }>>(
        `select id, slug, onboarding_state, onboarding_updated_at from tenant
           where status in ('active', 'suspended') and onboarding_state <> 'complete' and id <> ?
             and onboarding_updated_at < now() - make_interval(hours => ?)
           order by onboarding_updated_at, id limit ?`,
        [SYSTEM_TENANT_ID, olderThanHours, limit],
      );
      return rows.map((row) => ({ tenantId: row.id, slug: row.slug, onboardingState: row.onboarding_state, since: new Date(row.onboarding_updated_at).toISOString() }));
    },
  };
}

export type LifecycleService = ReturnType<typeof createLifecycleService>;
