import { EntitySchema } from '@mikro-orm/core';

/**
 * Append-only record of every change to the world. No foreign keys on purpose: the trail must outlive what it
 * describes (a rolled-back tenant, a purged user) so an operator can still read why it is gone.
 */
export class AuditEvent {
  id!: string;
  actor!: string;
  action!: string;
  entityType!: string;
  entityId!: string;
  tenantId?: string | null;
  fromState?: string | null;
  toState?: string | null;
  reason?: string | null;
  correlationId?: string | null;
  /** Makes a retried activity's audit write a no-op instead of a duplicate. */
  idempotencyKey!: string;
  details?: Record<string, unknown> | null;
  at: Date = new Date();
}

export const AuditEventSchema = new EntitySchema<AuditEvent>({
  class: AuditEvent,
  tableName: 'audit_event',
  indexes: [
    { name: 'audit_event_tenant_at_index', properties: ['tenantId', 'at'] },
    { name: 'audit_event_entity_index', properties: ['entityType', 'entityId'] },
    { name: 'audit_event_correlation_index', properties: ['correlationId'] },
  ],
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    actor: { type: 'string', length: 200 },
    action: { type: 'string', length: 100 },
    entityType: { type: 'string', length: 50 },
    entityId: { type: 'string', length: 200 },
    tenantId: { type: 'uuid', nullable: true },
    fromState: { type: 'string', length: 50, nullable: true },
    toState: { type: 'string', length: 50, nullable: true },
    reason: { type: 'text', nullable: true },
    correlationId: { type: 'string', length: 200, nullable: true },
    idempotencyKey: { type: 'string', length: 300, unique: 'audit_event_idempotency_key_unique' },
    details: { type: 'json', nullable: true },
    at: { type: 'datetime', onCreate: () => new Date() },
  },
});
