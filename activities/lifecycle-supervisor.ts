import { Context, log } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { recordAudit } from '../src/db/audit';
import type { Orm } from '../src/db/orm';
import { SYSTEM_TENANT_ID } from '../src/domain/lifecycle';
import type { Metrics } from '../src/observability/metrics';
import { createLifecycleStarter, type LifecycleTenant } from '../src/services/lifecycle-starter';
import { tenantLifecycleWorkflowId } from '../src/temporal/workflow-ids';

export interface LifecycleSupervisorDependencies {
  orm: Orm;
  client: Client;
  metrics?: Metrics;
}

export interface SuperviseLifecyclesInput {
  /** Retention of a soft delete that names none, as provisioning gives it; also the deadline of a pending deletion whose audit row has none. */
  defaultRetentionDays: number;
  /** Tenants checked per activity call. */
  pageSize?: number;
}

export interface SupervisionPage {
  checked: number;
  restarted: number;
  /** The page's last tenant: the next page starts after it. Null once every tenant was checked. */
  lastTenantId: string | null;
}

const DEFAULT_PAGE = 100;
const SUPERVISOR_ACTOR = 'system:lifecycle-supervisor';

/**
 * The lifecycle supervisor's one activity, one page of tenants per call (in id order): every tenant that is not
 * terminated (and is past provisioning) must have a running `tenant:<id>` workflow; one that has none is started from
 * the state and deadline Postgres holds, and the restart is audited. Describe, not visibility: it answers for this
 * very moment on every server, where a list may lag behind a workflow just closed. Safe to run twice: a running
 * workflow is kept.
 */
export function createLifecycleSupervisorActivities(deps: LifecycleSupervisorDependencies) {
  const starter = createLifecycleStarter(deps);

  async function isRunning(tenantId: string): Promise<boolean> {
    try {
      return (await deps.client.workflow.getHandle(tenantLifecycleWorkflowId(tenantId)).describe()).status.name === 'RUNNING';
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return false;
      throw error;
    }
  }

  return {
    async superviseLifecyclePage(input: SuperviseLifecyclesInput & { afterTenantId: string | null }): Promise<SupervisionPage> {
      const limit = input.pageSize ?? DEFAULT_PAGE;
      const tenants = await deps.orm.em.fork().execute<LifecycleTenant[]>(
        `select id, slug, status from tenant
           where status in ('active', 'suspended', 'pending_deletion') and id <> ? and (?::uuid is null or id > ?::uuid)
           order by id limit ?`,
        [SYSTEM_TENANT_ID, input.afterTenantId, input.afterTenantId, limit],
      );
      // The lifecycle runs where this supervisor runs: the worker polling this task queue runs both.
      const { taskQueue } = Context.current().info;
      let restarted = 0;
      for (const tenant of tenants) {
        Context.current().heartbeat(tenant.id);
        if (await isRunning(tenant.id)) continue;
        const handle = await starter.start(tenant, { taskQueue, retentionDays: input.defaultRetentionDays, afterCompleted: true });
        await deps.orm.em.fork().transactional((em) =>
          recordAudit(em, {
            actor: SUPERVISOR_ACTOR,
            action: 'lifecycle.workflow_restarted',
            entityType: 'tenant',
            entityId: tenant.id,
            tenantId: tenant.id,
            fromState: tenant.status,
            toState: tenant.status,
            reason: 'the tenant had no running lifecycle workflow',
            correlationId: handle.workflowId,
            // One row per workflow started: a retried page that finds it running writes nothing.
            idempotencyKey: `${tenant.id}:lifecycle.workflow_restarted:${handle.firstExecutionRunId}`,
          }),
        );
        deps.metrics?.lifecycleRestarts.inc();
        log.warn('tenant lifecycle workflow restarted', { tenantId: tenant.id, state: tenant.status });
        restarted += 1;
      }
      return { checked: tenants.length, restarted, lastTenantId: tenants.length < limit ? null : tenants.at(-1)!.id };
    },
  };
}

export type LifecycleSupervisorActivities = ReturnType<typeof createLifecycleSupervisorActivities>;
