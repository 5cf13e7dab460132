import { EntitySchema } from '@mikro-orm/core';

/**
 * What a record step found before it changed a key, captured in the same transaction as the change: its
 * compensation restores exactly this, once (restoredAt), and a retried step finds its row and changes nothing.
 */
export class RunStepUndo {
  runId!: string;
  stepIndex!: number;
  tenantId!: string;
  recordKey!: string;
  existed!: boolean;
  previousValue?: unknown;
  restoredAt?: Date | null;
  createdAt: Date = new Date();
}

export const RunStepUndoSchema = new EntitySchema<RunStepUndo>({
  class: RunStepUndo,
  tableName: 'run_step_undo',
  // Partial: only records still held by a run in flight are looked up (the semantic lock).
  indexes: [{ name: 'run_step_undo_held_index', expression: 'create index "run_step_undo_held_index" on "run_step_undo" ("tenant_id", "record_key") where "restored_at" is null' }],
  properties: {
    runId: { type: 'uuid', primary: true },
    stepIndex: { type: 'integer', primary: true },
    tenantId: { type: 'uuid' },
    recordKey: { type: 'string', length: 200 },
    existed: { type: 'boolean' },
    previousValue: { type: 'json', nullable: true },
    restoredAt: { type: 'datetime', nullable: true },
    createdAt: { type: 'datetime', onCreate: () => new Date(), defaultRaw: 'now()' },
  },
});
