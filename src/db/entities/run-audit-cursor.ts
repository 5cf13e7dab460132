import { EntitySchema } from '@mikro-orm/core';

/**
 * Where the reconciler's sweep over unsettled runs stands: the last run a pass examined, in (created_at, id) order.
 * Kept in Postgres because each scheduled pass is a new workflow with the same static input; it is moved in the
 * transaction that stores that batch's findings, so a crashed batch is examined again and none is skipped.
 */
export class RunAuditCursor {
  /** One row per sweep; the reconciler has one, `runs`. */
  name!: string;
  /** Null at the start of a sweep: the next batch begins with the oldest unsettled run. */
  afterCreatedAt?: Date | null;
  afterRunId?: string | null;
  updatedAt: Date = new Date();
}

export const RunAuditCursorSchema = new EntitySchema<RunAuditCursor>({
  class: RunAuditCursor,
  tableName: 'run_audit_cursor',
  properties: {
    name: { type: 'string', length: 50, primary: true },
    afterCreatedAt: { type: 'datetime', nullable: true },
    afterRunId: { type: 'uuid', nullable: true },
    updatedAt: { type: 'datetime', onCreate: () => new Date(), defaultRaw: 'now()' },
  },
});
