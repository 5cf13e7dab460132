import type { EntityManager } from '@mikro-orm/postgresql';
import { AuditEvent } from './entities';

export interface AuditEntry {
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  tenantId?: string | null;
  fromState?: string | null;
  toState?: string | null;
  reason?: string | null;
  correlationId?: string | null;
  /** Unique per effect: a retried activity writes its audit row once. */
  idempotencyKey: string;
  details?: Record<string, unknown> | null;
}

/** Appends an audit event inside the caller's transaction; a repeat with the same idempotency key is ignored. */
export async function recordAudit(em: EntityManager, entry: AuditEntry): Promise<void> {
  await em
    .createQueryBuilder(AuditEvent)
    .insert({ ...entry, at: new Date() })
    .onConflict('idempotency_key')
    .ignore()
    .execute();
}
