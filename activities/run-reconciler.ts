import type { EntityManager } from '@mikro-orm/postgresql';
import { log } from '@temporalio/activity';
import type { Orm } from '../src/db/orm';
import { loadAuditedRuns } from '../src/db/run-audit-queries';
import { AUDIT_FINDING_KINDS, auditFindings, type AuditFinding, type AuditFindingKind } from '../src/domain/run-audit';
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
}

export interface ReconcileSummary {
  scannedRuns: number;
  settledRuns: number;
  /** Findings open after this pass, by kind. */
  open: Record<AuditFindingKind, number>;
  /** Findings first seen (or seen again) in this pass, by kind: what audit_findings_total counted. */
  detected: Record<AuditFindingKind, number>;
}

const zeroByKind = (): Record<AuditFindingKind, number> => ({ missing: 0, drift: 0, stale: 0 });
const DEFAULT_BATCH = 500;

/**
 * The reconciler's one activity: every run not yet settled (plus acks with no run row) is compared against its
 * expectations. Findings are stored until a later pass no longer sees them; a finished run found clean is settled and
 * not scanned again. Safe to run twice: a finding is stored once, and counted once.
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

  return {
    async reconcileRunAudits(input: ReconcileInput = {}): Promise<ReconcileSummary> {
      const summary: ReconcileSummary = { scannedRuns: 0, settledRuns: 0, open: zeroByKind(), detected: zeroByKind() };
      const limit = input.batchSize ?? DEFAULT_BATCH;
      await deps.orm.em.fork().transactional(async (em) => {
        const unsettled = await em.execute<Array<{ id: string }>>(`select id from run where audit_settled_at is null order by created_at limit ?`, [limit]);
        const orphans = await em.execute<Array<{ run_id: string }>>(
          `select distinct a.run_id from run_ack a where a.acked_at > ? and not exists (select 1 from run r where r.id = a.run_id) limit ?`,
          [new Date(now().getTime() - (input.orphanAckLookbackHours ?? 24 * 7) * 3_600_000), limit],
        );
        const runIds = [...new Set([...unsettled.map((row) => row.id), ...orphans.map((row) => row.run_id)])];
        for (const run of await loadAuditedRuns(em, runIds)) {
          const findings = auditFindings(run, now());
          for (const finding of await storeFindings(em, run.runId, findings)) summary.detected[finding.kind] += 1;
          for (const finding of findings) summary.open[finding.kind] += 1;
          if (run.hasRow && run.finished && findings.length === 0) {
            await em.execute(`update run set audit_settled_at = ? where id = ?`, [now(), run.runId]);
            summary.settledRuns += 1;
          }
        }
        summary.scannedRuns = runIds.length;
      });
      // Counted after the commit, so a rolled-back pass counts nothing; aggregate labels only.
      for (const kind of AUDIT_FINDING_KINDS) if (summary.detected[kind] > 0) deps.metrics?.auditFindings.inc({ kind }, summary.detected[kind]);
      if (AUDIT_FINDING_KINDS.some((kind) => summary.open[kind] > 0)) log.warn('run audit findings open', { ...summary.open });
      return summary;
    },
  };
}

export type RunReconcilerActivities = ReturnType<typeof createRunReconcilerActivities>;
