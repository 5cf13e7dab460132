import { Context, log } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Orm } from '../src/db/orm';
import { storedRunJson } from '../src/db/run-opening';
import { releaseRunReservation } from '../src/db/run-reservation';
import { recordRunAudit } from '../src/db/run-trail';
import type { Metrics } from '../src/observability/metrics';
import { runWorkflowId } from '../src/temporal/workflow-ids';

export interface RunReservationDependencies {
  orm: Orm;
  client: Client;
  metrics?: Metrics;
}

export interface StrandedRunsPageInput {
  /** Only runs admitted at least this long ago: a workflow start follows its admission within milliseconds. */
  olderThanSeconds: number;
  afterRunId: string | null;
  pageSize?: number;
}

export interface StrandedRunsPage {
  checked: number;
  released: number;
  closed: number;
  /** The page's last run: the next page starts after it. Null once every unfinished run was checked. */
  lastRunId: string | null;
}

const DEFAULT_PAGE = 100;
const ACTOR = 'system:run-reservation-sweep';

/**
 * Frees the admission slots no run will ever free. A run holds a slot from its admission (its row, written by the API)
 * until the kernel finishes it. Two things can leave a slot held forever: the API process dies between admitting a
 * run and starting its workflow (and the client never retries the key), or someone ends a run's workflow outside the
 * kernel (terminated in the Web UI, timed out, its history deleted). One page of unfinished runs per call, asked of
 * Temporal by describe (exact at this moment, unlike a visibility list). Safe to run twice.
 */
export function createRunReservationActivities(deps: RunReservationDependencies) {
  type Verdict = 'running' | 'never_started' | 'closed';

  async function verdict(runId: string): Promise<{ verdict: Verdict; status?: string }> {
    try {
      const status = (await deps.client.workflow.getHandle(runWorkflowId(runId)).describe()).status.name;
      return status === 'RUNNING' ? { verdict: 'running' } : { verdict: 'closed', status };
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return { verdict: 'never_started' };
      throw error;
    }
  }

  /**
   * The workflow is over but the row never got its outcome: it gets the one the workflow's status implies (a workflow
   * that completed completed its run; any other end failed it), so the slot frees, and the audit trail says how.
   */
  async function closeOutsideKernel(run: { runId: string; tenantId: string }, status: string): Promise<boolean> {
    const completed = status === 'COMPLETED';
    return deps.orm.em.fork().transactional(async (em) => {
      const cause = completed ? null : storedRunJson({ type: 'ClosedOutsideKernel', message: `the run's workflow ended as ${status} without finishing the run` });
      const closed = await em.execute<Array<{ phase: string }>>(
        // audit_settled_at cleared as the kernel's own close does: a run the reconciler aged out is examined again, finished.
        `update run set phase = ?, outcome = ?, cause = coalesce(?::jsonb, cause), finished_at = now(), updated_at = now(), audit_settled_at = null
           where id = ? and phase not in ('COMPLETED', 'FAILED') returning phase`,
        [completed ? 'COMPLETED' : 'FAILED', completed ? 'completed' : 'failed', cause, run.runId],
      );
      if (closed.length === 0) return false;
      await recordRunAudit(em, run, 'run.closed_outside_kernel', 'closed_outside_kernel', {
        actor: ACTOR,
        to: completed ? 'COMPLETED' : 'FAILED',
        details: { workflowStatus: status },
      });
      return true;
    });
  }

  return {
    async releaseStrandedRunsPage(input: StrandedRunsPageInput): Promise<StrandedRunsPage> {
      const runs = await deps.orm.em.fork().execute<Array<{ id: string; tenant_id: string; phase: string }>>(
        `select id, tenant_id, phase from run
           where phase not in ('COMPLETED', 'FAILED') and created_at < now() - make_interval(secs => ?)
             and (?::uuid is null or id > ?::uuid)
           order by id limit ?`,
        [input.olderThanSeconds, input.afterRunId, input.afterRunId, input.pageSize ?? DEFAULT_PAGE],
      );
      const page: StrandedRunsPage = { checked: runs.length, released: 0, closed: 0, lastRunId: runs.at(-1)?.id ?? null };
      for (const row of runs) {
        Context.current().heartbeat(row.id);
        const run = { runId: row.id, tenantId: row.tenant_id };
        const found = await verdict(row.id);
        if (found.verdict === 'running') continue;
        if (found.verdict === 'never_started' && row.phase === 'CREATED') {
          const released = await deps.orm.em.fork().transactional((em) =>
            releaseRunReservation(em, run, { action: 'run.reservation_released', actor: ACTOR, reason: 'its workflow never started' }),
          );
          if (released) {
            page.released++;
            deps.metrics?.strandedRuns.inc({ reason: 'never_started' });
            log.warn('released the admission of a run whose workflow never started', { runId: row.id });
          }
          continue;
        }
        // Closed, or gone after it had begun (its history deleted): nothing will finish it now.
        if (await closeOutsideKernel(run, found.status ?? 'NOT_FOUND')) {
          page.closed++;
          deps.metrics?.strandedRuns.inc({ reason: 'closed_outside_kernel' });
          log.warn('closed a run whose workflow ended outside the kernel', { runId: row.id, workflowStatus: found.status });
        }
      }
      return page;
    },
  };
}

export type RunReservationActivities = ReturnType<typeof createRunReservationActivities>;
