import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuditSubject, Expectation, ExpectationKind, SettlementSubject } from '../domain/run-audit';

export interface AuditedRun extends AuditSubject, SettlementSubject {
  runId: string;
  tenantId: string | null;
  /** False for acks whose run has no row at all: every one of them is drift. */
  hasRow: boolean;
  ackedAt: Record<string, Date>;
}

const dateOrNull = (value: string | Date | null | undefined) => (value === null || value === undefined ? null : new Date(value));

/** Loads what the audit contract compares for a set of runs, in three queries whatever the number of runs. */
export async function loadAuditedRuns(em: EntityManager, runIds: string[]): Promise<AuditedRun[]> {
  if (runIds.length === 0) return [];
  // Raw queries get timestamps back as text from MikroORM's pg setup; they become Dates here.
  const rows = await em.execute<
    Array<{ id: string; tenant_id: string; outcome: string | null; finalize_deadline: string | Date | null; created_at: string | Date; finished_at: string | Date | null }>
  >(
    `select id, tenant_id, outcome, finalize_deadline, created_at, finished_at from run where id in (?)`,
    [runIds],
  );
  const expectations = await em.execute<Array<{ run_id: string; key: string; kind: ExpectationKind; waived_reason: string | null }>>(
    `select run_id, key, kind, waived_reason from run_expectation where run_id in (?) order by id`,
    [runIds],
  );
  const acks = await em.execute<Array<{ run_id: string; key: string; acked_at: string | Date }>>(`select run_id, key, acked_at from run_ack where run_id in (?) order by id`, [runIds]);
  const rowById = new Map(rows.map((row) => [row.id, row]));
  return runIds.map((runId) => {
    const row = rowById.get(runId);
    const own = acks.filter((ack) => ack.run_id === runId);
    return {
      runId,
      tenantId: row?.tenant_id ?? null,
      hasRow: row !== undefined,
      expectations: expectations
        .filter((expectation) => expectation.run_id === runId)
        .map((expectation): Expectation => ({ key: expectation.key, kind: expectation.kind, waivedReason: expectation.waived_reason })),
      ackedKeys: own.map((ack) => ack.key),
      ackedAt: Object.fromEntries(own.map((ack) => [ack.key, new Date(ack.acked_at)])),
      finished: row?.outcome !== null && row?.outcome !== undefined,
      finalizeDeadline: dateOrNull(row?.finalize_deadline),
      createdAt: dateOrNull(row?.created_at),
      finishedAt: dateOrNull(row?.finished_at),
    };
  });
}

export interface RunAuditBacklog {
  /** Runs the reconciler has not settled. */
  unsettled: number;
  oldestCreatedAt: Date | null;
}

/** The reconciler's backlog, on its partial index: what the gauges show at each scrape. */
export async function readRunAuditBacklog(em: EntityManager): Promise<RunAuditBacklog> {
  const [row] = await em.execute<Array<{ unsettled: string; oldest: string | Date | null }>>(
    `select count(*) as unsettled, min(created_at) as oldest from run where audit_settled_at is null`,
  );
  return { unsettled: Number(row?.unsettled ?? 0), oldestCreatedAt: dateOrNull(row?.oldest) };
}
