import type { EntityManager } from '@mikro-orm/postgresql';
import { log } from '@temporalio/activity';
import type { Orm } from '../src/db/orm';
import { loadAuditedRuns, type AuditedRun } from '../src/db/run-audit-queries';
import { claimUnsettledBatch, moveCursorPast } from '../src/db/run-audit-sweep';
import { recordRunAudit } from '../src/db/run-trail';
import { DAY_MS } from '../src/domain/duration';
import {
  AUDIT_FINDING_KINDS,
  auditFindings,
  auditSettlement,
  type AuditFinding,
  type AuditFindingKind,
  type AuditSettlement,
  type SettlementPolicy,
} from '../src/domain/run-audit';
import type { Metrics } from '../src/observability/metrics';

export interface ReconcilerDependencies {
  orm: Orm;
  metrics?: Metrics;
  now?: () => Date;
}

export interface ReconcileInput {
  batchSize?: number;
  /** Acks younger than this whose run has no row are examined too (an opening write that never landed). */
  orphanAckLookbackHours?: number;
  /** How long after a run finished its findings may still be resolved by a late ack; then they stand. */
  findingsFinalAfterHours?: number;
  /** How long past its finalize deadline an unfinished run is examined before it is aged out. */
  ageOutAfterDays?: number;
}

export interface ReconcileSummary {
  scannedRuns: number;
  settledRuns: number;
  /** Of settledRuns: settled with findings that stand (final) or aged out unfinished; each has an audit event. */
  settledWithFindings: number;
  agedOutRuns: number;
  /** This batch reached the end of the unsettled backlog; the next one starts again from the oldest run. */
  sweepComplete: boolean;
  /** Findings open after this pass, by kind. */
  open: Record<AuditFindingKind, number>;
  /** Findings first seen (or seen again) in this pass, by kind: what audit_findings_total counted. */
  detected: Record<AuditFindingKind, number>;
}

const zeroByKind = (): Record<AuditFindingKind, number> => ({ missing: 0, drift: 0, stale: 0 });
const DEFAULT_BATCH = 500;
const DEFAULT_FINDINGS_FINAL_AFTER_HOURS = 24;
const DEFAULT_AGE_OUT_AFTER_DAYS = 30;
const RECONCILER_ACTOR = 'system:reconciler';

const SETTLEMENT_AUDIT: Record<Exclude<AuditSettlement, 'clean'>, { action: string; reason: string }> = {
  final: { action: 'run.audit_settled', reason: 'the run finished long enough ago that no ack can still land: its findings stand' },
  aged_out: { action: 'run.audit_aged_out', reason: 'the run never finished and is long past its deadline; closing it would reopen its audit' },
};

/**
 * The reconciler's one activity, one batch per call: the next unsettled runs after the sweep's cursor (and, as a sweep
 * begins, acks with no run row) are compared against their expectations. Findings are stored until a later pass no
 * longer sees them. A run is settled, and not scanned again, once nothing about it can change: finished clean,
 * finished long enough ago that its findings stand, or unfinished long past its deadline (aged out). The cursor moves
 * in the transaction that stores the findings, so a failed batch is examined again and none is skipped; a retry after
 * the commit examines the next batch. A finding is stored once, and counted once.
 */
export function createRunReconcilerActivities(deps: ReconcilerDependencies) {
  const now = deps.now ?? (() => new Date());

  async function storeFindings(em: EntityManager, runId: string, findings: AuditFinding[]): Promise<AuditFinding[]> {
    const detected: AuditFinding[] = [];
    for (const finding of findings) {
      const rows = await em.execute<Array<{ kind: AuditFindingKind }>>(
        `insert into run_audit_finding (run_id, kind, key, detected_at) values (?, ?, ?, ?)
           on conflict (run_id, kind, key) do update set resolved_at = null, detected_at = excluded.detected_at
             where run_audit_finding.resolved_at is not null
           returning kind`,
        [runId, finding.kind, finding.key, now()],
      );
      if (rows.length > 0) detected.push(finding);
    }
    const current = findings.map((finding) => `${finding.kind}|${finding.key}`).concat('');
    await em.execute(
      `update run_audit_finding set resolved_at = ? where run_id = ? and resolved_at is null and (kind || '|' || key) not in (?)`,
      [now(), runId, current],
    );
    return detected;
  }

  /** Acks with no run row that no finding records yet: each is examined once, not in every pass for a week. */
  async function unrecordedOrphanRuns(em: EntityManager, lookbackHours: number, limit: number): Promise<string[]> {
    const rows = await em.execute<Array<{ run_id: string }>>(
      `select distinct a.run_id from run_ack a
         where a.acked_at > ? and not exists (select 1 from run r where r.id = a.run_id)
           and not exists (select 1 from run_audit_finding f where f.run_id = a.run_id and f.kind = 'drift' and f.key = a.key and f.resolved_at is null)
         order by a.run_id limit ?`,
      [new Date(now().getTime() - lookbackHours * 3_600_000), limit],
    );
    return rows.map((row) => row.run_id);
  }

  async function settle(em: EntityManager, run: AuditedRun, settlement: AuditSettlement, findings: AuditFinding[]): Promise<void> {
    await em.execute(`update run set audit_settled_at = ? where id = ?`, [now(), run.runId]);
    if (settlement === 'clean') return;
    const { action, reason } = SETTLEMENT_AUDIT[settlement];
    await recordRunAudit(em, { runId: run.runId, tenantId: run.tenantId! }, action, action, { actor: RECONCILER_ACTOR, reason, details: { findings } });
  }

  return {
    async reconcileRunAudits(input: ReconcileInput = {}): Promise<ReconcileSummary> {
      const summary: ReconcileSummary = { scannedRuns: 0, settledRuns: 0, settledWithFindings: 0, agedOutRuns: 0, sweepComplete: false, open: zeroByKind(), detected: zeroByKind() };
      const limit = input.batchSize ?? DEFAULT_BATCH;
      const policy: SettlementPolicy = {
        findingsFinalAfterMs: (input.findingsFinalAfterHours ?? DEFAULT_FINDINGS_FINAL_AFTER_HOURS) * 3_600_000,
        ageOutAfterMs: (input.ageOutAfterDays ?? DEFAULT_AGE_OUT_AFTER_DAYS) * DAY_MS,
      };
      await deps.orm.em.fork().transactional(async (em) => {
        const batch = await claimUnsettledBatch(em, limit);
        const orphans = batch.startsSweep ? await unrecordedOrphanRuns(em, input.orphanAckLookbackHours ?? 24 * 7, limit) : [];
        const runIds = [...new Set([...batch.runIds, ...orphans])];
        for (const run of await loadAuditedRuns(em, runIds)) {
          const findings = auditFindings(run, now());
          for (const finding of await storeFindings(em, run.runId, findings)) summary.detected[finding.kind] += 1;
          for (const finding of findings) summary.open[finding.kind] += 1;
          const settlement = auditSettlement(run, findings, now(), policy);
          if (settlement === null) continue;
          await settle(em, run, settlement, findings);
          summary.settledRuns += 1;
          if (settlement !== 'clean') summary.settledWithFindings += 1;
          if (settlement === 'aged_out') summary.agedOutRuns += 1;
        }
        await moveCursorPast(em, batch);
        summary.scannedRuns = runIds.length;
        summary.sweepComplete = batch.endsSweep;
      });
      // Counted after the commit, so a rolled-back pass counts nothing; aggregate labels only.
      for (const kind of AUDIT_FINDING_KINDS) if (summary.detected[kind] > 0) deps.metrics?.auditFindings.inc({ kind }, summary.detected[kind]);
      if (AUDIT_FINDING_KINDS.some((kind) => summary.open[kind] > 0)) log.warn('run audit findings open', { ...summary.open });
      if (summary.agedOutRuns > 0) log.warn('unfinished runs aged out of the run audit', { agedOutRuns: summary.agedOutRuns });
      return summary;
    },
  };
}

export type RunReconcilerActivities = ReturnType<typeof createRunReconcilerActivities>;
