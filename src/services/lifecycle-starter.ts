import { WorkflowNotFoundError, type Client, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { LifecycleCarry, LifecycleState, OffboardingTrigger, TenantLifecycleInput } from '../contracts/lifecycle';
import type { Orm } from '../db/orm';
import { DAY_MS } from '../domain/duration';
import { isLifecycleState } from '../domain/lifecycle';
import type { TenantStatus } from '../domain/tenant-status';
import { TENANT_ID, TENANT_LIFECYCLE_STATE } from '../temporal/search-attributes';
import { offboardingWorkflowId, tenantLifecycleWorkflowId } from '../temporal/workflow-ids';
import type { tenantLifecycle } from '../../workflows/lifecycle';

export interface LifecycleTenant {
  id: string;
  /** Null on a tombstone whose name was released: it is terminated, and its workflow only needs a label. */
  slug: string | null;
  status: TenantStatus;
}

/** How a pending deletion began, by the audit action that began it. */
const PENDING_DELETION_ACTIONS: Record<string, OffboardingTrigger | null> = {
  'lifecycle.soft_deleted': null,
  'lifecycle.terminate_requested': 'terminate',
  'lifecycle.force_completed': 'force_complete',
};

/**
 * Starts a tenant's lifecycle workflow from what Postgres holds, for a tenant that has none running: one that predates
 * lifecycles, or whose workflow was closed by hand. Idempotent by workflow id: a running one is kept (USE_EXISTING).
 * The admin routes call it before an update; the lifecycle supervisor calls it for every tenant without one.
 */
export function createLifecycleStarter(deps: { client: Client; orm: Orm }) {
  /** Whether an offboarding started by an earlier run of the lifecycle is still going (it outlives its parent). */
  async function offboardingUnderWay(tenantId: string): Promise<boolean> {
    try {
      return (await deps.client.workflow.getHandle(offboardingWorkflowId(tenantId)).describe()).status.name === 'RUNNING';
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return false;
      throw error;
    }
  }

  /**
   * A pending deletion's deadline (its original one, from the soft delete's audit row) or its started offboarding.
   * An offboarding still running is carried too, so the new run refuses a restore instead of racing the purge.
   */
  async function pendingDeletionOf(tenantId: string, retentionDays: number): Promise<LifecycleCarry> {
    const [latest] = await deps.orm.em.fork().execute<Array<{ action: string; actor: string; reason: string | null; from_state: LifecycleState | null; details: { deletesAt?: string } | null }>>(
      `select action, actor, reason, from_state, details from audit_event
         where tenant_id = ? and entity_type = 'tenant' and action in (?)
         order by id desc limit 1`,
      [tenantId, Object.keys(PENDING_DELETION_ACTIONS)],
    );
    const trigger = latest ? PENDING_DELETION_ACTIONS[latest.action] : null;
    let offboarding = trigger ? { trigger, actor: latest!.actor, reason: latest!.reason } : null;
    if (offboarding === null && (await offboardingUnderWay(tenantId))) {
      offboarding = { trigger: 'retention_expired', actor: 'system:retention', reason: 'the retention period ended' };
    }
    const deletesAt = latest?.details?.deletesAt ?? new Date(Date.now() + retentionDays * DAY_MS).toISOString();
    return { restoreTo: latest?.from_state ?? 'active', deletesAt: offboarding ? null : deletesAt, offboarding, transitionCount: 0, recent: [] };
  }

  /** The input a lifecycle started now gets: the tenant's state and, pending deletion, its deadline. */
  async function inputFor(tenant: LifecycleTenant, retentionDays: number): Promise<TenantLifecycleInput> {
    const state = isLifecycleState(tenant.status) ? tenant.status : 'active';
    return {
      tenantId: tenant.id,
      slug: tenant.slug ?? tenant.id,
      state,
      defaultRetentionDays: retentionDays,
      ...(state === 'pending_deletion' ? { carried: await pendingDeletionOf(tenant.id, retentionDays) } : {}),
    };
  }

  return {
    /**
     * Starts (or finds) the tenant's lifecycle. `afterCompleted`: start a new run even when the last one completed
     * (the supervisor's case: a tenant that is not terminated needs one); otherwise only after one that failed or was
     * closed by hand.
     */
    async start(tenant: LifecycleTenant, options: { taskQueue: string; retentionDays: number; afterCompleted?: boolean }): Promise<WorkflowHandleWithFirstExecutionRunId<typeof tenantLifecycle>> {
      const input = await inputFor(tenant, options.retentionDays);
      return deps.client.workflow.start<typeof tenantLifecycle>('tenantLifecycle', {
        taskQueue: options.taskQueue,
        workflowId: tenantLifecycleWorkflowId(tenant.id),
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: options.afterCompleted ? 'ALLOW_DUPLICATE' : 'ALLOW_DUPLICATE_FAILED_ONLY',
        typedSearchAttributes: [
          { key: TENANT_ID, value: tenant.id },
          { key: TENANT_LIFECYCLE_STATE, value: input.state },
        ],
        staticSummary: `Lifecycle of tenant ${tenant.slug ?? tenant.id}`,
      });
    },
  };
}

export type LifecycleStarter = ReturnType<typeof createLifecycleStarter>;
