import { EntitySchema } from '@mikro-orm/core';
import { AUDIT_FINDING_KINDS, type AuditFindingKind } from '../../domain/run-audit';

/** A reconciler finding, kept until a later pass no longer sees it (resolvedAt), so history survives the fix. */
export class RunAuditFinding {
  id!: string;
  runId!: string;
  kind!: AuditFindingKind;
  key!: string;
  detectedAt: Date = new Date();
  resolvedAt?: Date | null;
}

export const RunAuditFindingSchema = new EntitySchema<RunAuditFinding>({
  class: RunAuditFinding,
  tableName: 'run_audit_finding',
  uniques: [{ name: 'run_audit_finding_run_kind_key_unique', properties: ['runId', 'kind', 'key'] }],
  indexes: [{ name: 'run_audit_finding_open_index', expression: 'create index "run_audit_finding_open_index" on "run_audit_finding" ("kind") where "resolved_at" is null' }],
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    runId: { type: 'uuid' },
    kind: { enum: true, items: () => [...AUDIT_FINDING_KINDS] },
    key: { type: 'string', length: 100 },
    detectedAt: { type: 'datetime', onCreate: () => new Date(), defaultRaw: 'now()' },
    resolvedAt: { type: 'datetime', nullable: true },
  },
});
