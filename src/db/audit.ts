import type { EntityManager } from '@mikro-orm/postgresql';
import { storableJson, storableText } from '../domain/storable-text';

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

/** An audit row as SQL: `select` is a select list of placeholders (and the from-state's expression), `params` its values. */
export interface AuditRow {
  select: string;
  params: unknown[];
}

/**
 * One audit row, ready to be inserted by a statement that may also make the change it records (see run-trail.ts).
 * Reasons and details often carry someone else's text (an operator's words, an error message): made storable first, so
 * the audit write of a rollback can never fail on what it records. `fromStateSql` takes the from-state from the
 * statement itself (a phase read under the row lock) instead of a value.
 */
export function auditRow(entry: AuditEntry, options: { fromStateSql?: string } = {}): AuditRow {
  const reason = entry.reason == null ? null : storableText(entry.reason, REASON_LIMIT);
  const details = entry.details == null ? null : JSON.stringify(storableJson(entry.details));
  const fromState = options.fromStateSql ?? '?::varchar';
  return {
    select: `?::varchar, ?::varchar, ?::varchar, ?::varchar, ?::uuid, ${fromState}, ?::varchar, ?::text, ?::varchar, ?::varchar, ?::jsonb, ?::timestamptz`,
    params: [
      entry.actor,
      entry.action,
      entry.entityType,
      entry.entityId,
      entry.tenantId ?? null,
      ...(options.fromStateSql === undefined ? [entry.fromState ?? null] : []),
      entry.toState ?? null,
      reason,
      entry.correlationId ?? null,
      entry.idempotencyKey,
      details,
      new Date(),
    ],
  };
}

/** The head of an audit insert; the rows follow as a select, and a repeated idempotency key is ignored. */
const INSERT_AUDIT = 'insert into audit_event (actor, action, entity_type, entity_id, tenant_id, from_state, to_state, reason, correlation_id, idempotency_key, details, at)';
const IGNORE_REPEATED_AUDIT = 'on conflict (idempotency_key) do nothing';

/**
 * A statement that makes its changes and writes their audit row at once: `ctes` are its data-modifying steps (named,
 * comma-separated), `auditWhen` an optional condition on them for writing the row, `select` what it reads back.
 */
export interface AuditedStatement {
  ctes: string;
  params: unknown[];
  auditWhen?: { sql: string; params?: unknown[] };
  select: string;
}

/**
 * Runs an AuditedStatement with its audit row: one round trip, and atomic without a transaction around it (or one
 * statement of the caller's). Returns the row `select` read.
 */
export async function executeWithAudit<Row extends object>(em: EntityManager, statement: AuditedStatement, audit: AuditRow): Promise<Row | undefined> {
  const when = statement.auditWhen;
  const rows = await em.execute<Row[]>(
    `with ${statement.ctes},
       audited as (${INSERT_AUDIT} select ${audit.select}${when ? ` where ${when.sql}` : ''} ${IGNORE_REPEATED_AUDIT})
     select ${statement.select}`,
    [...statement.params, ...audit.params, ...(when?.params ?? [])],
  );
  return rows[0];
}

/**
 * Appends an audit event inside the caller's transaction; a repeat with the same idempotency key is ignored. Plain SQL,
 * not the query builder: it is written several times per run, and the builder cost more CPU than the statement.
 */
export async function recordAudit(em: EntityManager, entry: AuditEntry): Promise<void> {
  const row = auditRow(entry);
  await em.execute(`${INSERT_AUDIT} select ${row.select} ${IGNORE_REPEATED_AUDIT}`, row.params);
}
