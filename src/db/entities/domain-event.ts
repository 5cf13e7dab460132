import { EntitySchema } from '@mikro-orm/core';

/** Append-only stream of structured events for operators (not the audit trail: that one is written in-transaction). */
export class DomainEventRecord {
  id!: string;
  type!: string;
  tenantId?: string | null;
  runId?: string | null;
  workflowId?: string | null;
  actor?: string | null;
  data?: Record<string, unknown> | null;
  at!: Date;
}

export const DomainEventSchema = new EntitySchema<DomainEventRecord>({
  class: DomainEventRecord,
  tableName: 'domain_event',
  indexes: [
    { name: 'domain_event_tenant_id_index', properties: ['tenantId', 'id'] },
    { name: 'domain_event_run_id_index', properties: ['runId', 'id'] },
    { name: 'domain_event_type_id_index', properties: ['type', 'id'] },
    { name: 'domain_event_at_index', properties: ['at'] },
  ],
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    type: { type: 'string', length: 100 },
    tenantId: { type: 'uuid', nullable: true },
    runId: { type: 'string', length: 100, nullable: true },
    workflowId: { type: 'string', length: 200, nullable: true },
    actor: { type: 'string', length: 200, nullable: true },
    data: { type: 'json', nullable: true },
    at: { type: 'datetime' },
  },
});
