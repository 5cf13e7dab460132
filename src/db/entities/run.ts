import { EntitySchema } from '@mikro-orm/core';
import type { RunCause, RunOutcome, RunOverride, RunStepStatus } from '../../contracts/run';
import { RUN_PHASES, type RunPhase } from '../../domain/run-phase';
import type { RunPlan } from '../../domain/step-kinds';

/**
 * Postgres's record of a run: written by the workflow's activities at each committed phase, read by the API once the
 * workflow is gone. The workflow's own query is the live view while it runs.
 */
export class Run {
  id!: string;
  tenantId!: string;
  workflowId!: string;
  phase!: RunPhase;
  plan!: RunPlan;
  stepStates: RunStepStatus[] = [];
  outcome?: RunOutcome | null;
  cause?: RunCause | null;
  override?: RunOverride | null;
  degraded = false;
  submittedBy!: string;
  /** The person behind the submission (a key's creator when a key submitted it): four eyes refuses them the decision. */
  submittedByUserId?: string | null;
  /** The API key that submitted the run, if one did. */
  submittedByKeyId?: string | null;
  /** After this, a run without its finalize_run ack is stale. */
  finalizeDeadline?: Date | null;
  /** Set once nothing about the run's audit can change any more (see the reconciler); it is not scanned again. */
  auditSettledAt?: Date | null;
  createdAt: Date = new Date();
  updatedAt: Date = new Date();
  finishedAt?: Date | null;
}

export const RunSchema = new EntitySchema<Run>({
  class: Run,
  tableName: 'run',
  indexes: [
    { name: 'run_tenant_created_index', properties: ['tenantId', 'createdAt'] },
    // Partial: the reconciler only ever looks for runs it has not settled yet, in its cursor's (created_at, id) order.
    { name: 'run_audit_unsettled_index', expression: 'create index "run_audit_unsettled_index" on "run" ("created_at", "id") where "audit_settled_at" is null' },
  ],
  properties: {
    id: { type: 'uuid', primary: true },
    tenantId: { type: 'uuid' },
    workflowId: { type: 'string', length: 200 },
    phase: { enum: true, items: () => [...RUN_PHASES] },
    plan: { type: 'json' },
    stepStates: { type: 'json', defaultRaw: `'[]'` },
    outcome: { enum: true, items: () => ['completed', 'failed'], nullable: true },
    cause: { type: 'json', nullable: true },
    override: { type: 'json', nullable: true },
    degraded: { type: 'boolean' },
    submittedBy: { type: 'string', length: 200 },
    submittedByUserId: { type: 'uuid', nullable: true },
    submittedByKeyId: { type: 'uuid', nullable: true },
    finalizeDeadline: { type: 'datetime', nullable: true },
    auditSettledAt: { type: 'datetime', nullable: true },
    createdAt: { type: 'datetime', onCreate: () => new Date(), defaultRaw: 'now()' },
    updatedAt: { type: 'datetime', onCreate: () => new Date(), defaultRaw: 'now()', onUpdate: () => new Date() },
    finishedAt: { type: 'datetime', nullable: true },
  },
});
