import type { EntityManager } from '@mikro-orm/postgresql';
import type { RunContext } from '../contracts/run';
import type { ExpectationKind } from '../domain/run-audit';
import { phasesLeadingTo, type RunPhase } from '../domain/run-phase';
import { storableText } from '../domain/storable-text';
import { auditRow, executeWithAudit, recordAudit, type AuditEntry } from './audit';

/** Declares what a run will do; declaring again changes nothing. */
export async function declareExpectations(em: EntityManager, runId: string, expectations: Array<{ key: string; kind: ExpectationKind }>): Promise<void> {
  if (expectations.length === 0) return;
  const values = expectations.map(() => '(?, ?, ?, now())').join(', ');
  await em.execute(
    `insert into run_expectation (run_id, key, kind, created_at) values ${values} on conflict (run_id, key) do nothing`,
    expectations.flatMap((expectation) => [runId, expectation.key, expectation.kind]),
  );
}

/** Waives every step and governance expectation the run has not met, with the reason it never will. */
export async function waiveUnmetExpectations(em: EntityManager, runId: string, reason: string, kinds: ExpectationKind[] = ['step', 'governance']): Promise<void> {
  await em.execute(
    `update run_expectation e set waived_reason = ?
       where e.run_id = ? and e.kind in (?) and e.waived_reason is null
         and not exists (select 1 from run_ack a where a.run_id = e.run_id and a.key = e.key)`,
    [storableText(reason, 2000), runId, kinds],
  );
}

export interface RunAuditDetails {
  actor?: string;
  from?: string;
  to?: string;
  reason?: string;
  details?: Record<string, unknown>;
}

/** An audit event about a run: the run is the entity and runId the correlation key. */
export function runAuditEntry(context: RunContext, action: string, effect: string, extra: RunAuditDetails): AuditEntry {
  return {
    actor: extra.actor ?? 'system:run-kernel',
    action,
    entityType: 'run',
    entityId: context.runId,
    tenantId: context.tenantId,
    fromState: extra.from,
    toState: extra.to,
    reason: extra.reason,
    details: extra.details,
    correlationId: context.runId,
    idempotencyKey: `run:${context.runId}:${effect}`,
  };
}

/** An audit event about a run. `effect` names the one change it records, so a retried activity writes it once. */
export function recordRunAudit(em: EntityManager, context: RunContext, action: string, effect: string, extra: RunAuditDetails = {}): Promise<void> {
  return recordAudit(em, runAuditEntry(context, action, effect, extra));
}

/** A data-modifying statement (insert, update or delete) ending in `returning`, and its parameters. */
export interface Change {
  sql: string;
  params: unknown[];
}

/**
 * Makes `changes`, acknowledges an expectation and writes the audit event that reports them, in one statement of the
 * caller's transaction: one round trip where a step took one per write. Says how many rows each change returned.
 */
export async function applyWithTrail(
  em: EntityManager,
  context: RunContext,
  trail: { key: string; action: string; effect: string } & RunAuditDetails,
  changes: Change[] = [],
): Promise<number[]> {
  const { key, action, effect, ...extra } = trail;
  const named = changes.map((change, index) => ({ name: `change_${index}`, ...change }));
  const row = await executeWithAudit<Record<string, string>>(
    em,
    {
      ctes: [...named.map((change) => `${change.name} as (${change.sql})`), `ack as (insert into run_ack (run_id, key, acked_at) values (?, ?, now()) on conflict (run_id, key) do nothing)`].join(', '),
      params: [...named.flatMap((change) => change.params), context.runId, key],
      select: named.length === 0 ? '1 as none' : named.map((change) => `(select count(*) from ${change.name}) as ${change.name}`).join(', '),
    },
    auditRow(runAuditEntry(context, action, effect, extra)),
  );
  return named.map((change) => Number(row?.[change.name] ?? 0));
}

/** Acknowledges an expectation and writes the audit event that reports it, in one statement. */
export async function acknowledgeWithAudit(em: EntityManager, context: RunContext, key: string, action: string, effect: string, extra: RunAuditDetails = {}): Promise<void> {
  await applyWithTrail(em, context, { key, action, effect, ...extra });
}

/**
 * Forward-only: moves the run's row to `to` only from a phase with an edge to it and, if it moved, writes the audit
 * event with the phase it left, in one statement (the row is locked by the update, the phase it left read from the
 * locked row). Says which phase it left, or undefined when the row is there already (or not yet).
 */
export async function movePhaseWithAudit(em: EntityManager, context: RunContext, to: RunPhase, action: string, effect: string, extra: RunAuditDetails = {}): Promise<RunPhase | undefined> {
  const row = await executeWithAudit<{ phase: RunPhase | null }>(
    em,
    {
      ctes: `moved as (
               update run set phase = ?, updated_at = now() from (select id, phase from run where id = ? for update) as before
                 where run.id = before.id and before.phase in (?) returning before.phase)`,
      params: [to, context.runId, phasesLeadingTo(to)],
      auditWhen: { sql: 'exists (select 1 from moved)' },
      select: '(select phase from moved) as phase',
    },
    auditRow(runAuditEntry(context, action, effect, { ...extra, to }), { fromStateSql: '(select phase from moved)' }),
  );
  return row?.phase ?? undefined;
}
