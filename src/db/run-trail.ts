import type { EntityManager } from '@mikro-orm/postgresql';
import type { RunContext } from '../contracts/run';
import type { ExpectationKind } from '../domain/run-audit';
import { storableText } from '../domain/storable-text';
import { recordAudit } from './audit';

/** Declares what a run will do; declaring again changes nothing. */
export async function declareExpectations(em: EntityManager, runId: string, expectations: Array<{ key: string; kind: ExpectationKind }>): Promise<void> {
  if (expectations.length === 0) return;
  const values = expectations.map(() => '(?, ?, ?, now())').join(', ');
  await em.execute(
    `insert into run_expectation (run_id, key, kind, created_at) values ${values} on conflict (run_id, key) do nothing`,
    expectations.flatMap((expectation) => [runId, expectation.key, expectation.kind]),
  );
}

/** Acknowledges one expectation inside the caller's transaction, beside the effect it stands for. */
export async function acknowledge(em: EntityManager, runId: string, key: string): Promise<void> {
  await em.execute(`insert into run_ack (run_id, key, acked_at) values (?, ?, now()) on conflict (run_id, key) do nothing`, [runId, key]);
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

/**
 * An audit event about a run: the run is the entity and runId the correlation key. `effect` names the one change it
 * records, so a retried activity writes it once.
 */
export function recordRunAudit(em: EntityManager, context: RunContext, action: string, effect: string, extra: RunAuditDetails = {}): Promise<void> {
  return recordAudit(em, {
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
  });
}
