/**
 * The runtime audit contract of a run, as a pure computation: what was declared expected, what was acknowledged, and
 * what the difference means. The reconciler and the operator's audit view both call it, so they never disagree.
 */
export const FINALIZE_RUN_KEY = 'finalize_run';
export const GOVERNANCE_KEY = 'governance';
export const stepKey = (stepIndex: number) => `step:${stepIndex}`;
export const compensationKey = (stepIndex: number) => `compensate:${stepIndex}`;

export const EXPECTATION_KINDS = ['step', 'governance', 'finalize', 'compensation'] as const;
export type ExpectationKind = (typeof EXPECTATION_KINDS)[number];

export const AUDIT_FINDING_KINDS = ['missing', 'drift', 'stale'] as const;
export type AuditFindingKind = (typeof AUDIT_FINDING_KINDS)[number];

export interface Expectation {
  key: string;
  kind: ExpectationKind;
  /** Set when the run legitimately will not meet it (rolled back before the step, or force-completed past it). */
  waivedReason: string | null;
}

export interface AuditSubject {
  expectations: Expectation[];
  ackedKeys: string[];
  /** The run reached COMPLETED or FAILED: everything it expected is due. */
  finished: boolean;
  finalizeDeadline: Date | null;
}

export interface AuditFinding {
  kind: AuditFindingKind;
  key: string;
}

/**
 * missing: expected, not waived, not acknowledged, on a finished run (a run in flight has simply not got there yet).
 * drift: acknowledged but never expected. stale: no finalize_run ack once its deadline has passed.
 */
export function auditFindings(subject: AuditSubject, now: Date): AuditFinding[] {
  const acked = new Set(subject.ackedKeys);
  const expected = new Set(subject.expectations.map((expectation) => expectation.key));
  const findings: AuditFinding[] = [];
  if (subject.finished) {
    for (const expectation of subject.expectations) {
      if (expectation.waivedReason === null && !acked.has(expectation.key)) findings.push({ kind: 'missing', key: expectation.key });
    }
  }
  for (const key of [...acked].sort()) if (!expected.has(key)) findings.push({ kind: 'drift', key });
  const deadlinePassed = subject.finalizeDeadline !== null && subject.finalizeDeadline.getTime() < now.getTime();
  if (deadlinePassed && !acked.has(FINALIZE_RUN_KEY)) findings.push({ kind: 'stale', key: FINALIZE_RUN_KEY });
  return findings;
}

/**
 * Why a run's audit was settled (no longer examined). `clean`: finished with nothing open. `final`: finished with
 * findings, long enough ago that no late ack can land any more, so they stand. `aged_out`: never finished, long past
 * its deadline; if it ever does finish, closing it reopens its audit.
 */
export type AuditSettlement = 'clean' | 'final' | 'aged_out';

export interface SettlementSubject {
  /** Acks with no run row cannot be settled: there is nothing to mark. */
  hasRow: boolean;
  finished: boolean;
  finishedAt: Date | null;
  createdAt: Date | null;
  finalizeDeadline: Date | null;
}

export interface SettlementPolicy {
  /** After a run finished, how long an ack of one of its activities may still land (a retry that outlived it). */
  findingsFinalAfterMs: number;
  /** Past its finalize deadline (or creation, without one), how long an unfinished run is still examined. */
  ageOutAfterMs: number;
}

export function auditSettlement(subject: SettlementSubject, findings: AuditFinding[], now: Date, policy: SettlementPolicy): AuditSettlement | null {
  if (!subject.hasRow) return null;
  const passed = (since: Date | null, ms: number) => since !== null && since.getTime() + ms <= now.getTime();
  if (subject.finished) {
    if (findings.length === 0) return 'clean';
    // A finished row without finished_at (written by hand) counts from its creation.
    return passed(subject.finishedAt ?? subject.createdAt, policy.findingsFinalAfterMs) ? 'final' : null;
  }
  return passed(subject.finalizeDeadline ?? subject.createdAt, policy.ageOutAfterMs) ? 'aged_out' : null;
}
