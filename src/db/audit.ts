import type { EntityManager } from '@mikro-orm/postgresql';
import { storableJson, storableText } from '../domain/storable-text';
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

const REASON_LIMIT = 2000;

/**
 * Appends an audit event inside the caller's transaction; a repeat with the same idempotency key is ignored. Reasons
 * and details often carry someone else's text (an operator's words, an error message): made storable first, so the
 * audit write of a rollback can never fail on what it records.
 */
export async function recordAudit(em: EntityManager, entry: AuditEntry): Promise<void> {
  const reason = entry.reason == null ? entry.reason : storableText(entry.reason, REASON_LIMIT);
  const details = entry.details == null ? entry.details : (storableJson(entry.details) as Record<string, unknown>);
  await em
    .createQueryBuilder(AuditEvent)
    .insert({ ...entry, reason, details, at: new Date() })
    .onConflict('idempotency_key')
    .ignore()
    .execute();
}
