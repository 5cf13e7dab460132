import { auditFindings } from '../../src/domain/run-audit';
import { canEnterPhase, RUN_PHASE_EDGES, RUN_PHASES } from '../../src/domain/run-phase';
import { evaluateGovernance, lifecycleGate, runPolicyFromRules, stepCountGate } from '../../src/domain/run-policy';

describe('run phases', () => {
  it('reach FINALIZING only from GOVERNANCE_CHECK, or from EXECUTING for a force-complete, and leave terminal phases never', () => {
    expect(RUN_PHASES.filter((from) => canEnterPhase(from, 'FINALIZING'))).toEqual(['EXECUTING', 'GOVERNANCE_CHECK']);
    expect(RUN_PHASES.filter((from) => canEnterPhase(from, 'COMPLETED'))).toEqual(['FINALIZING']);
    expect(RUN_PHASE_EDGES.COMPLETED).toEqual([]);
    expect(RUN_PHASE_EDGES.FAILED).toEqual([]);
    expect(RUN_PHASES.filter((from) => canEnterPhase(from, 'FAILED'))).toEqual(['CREATED', 'AUTHORIZED', 'EXECUTING', 'GOVERNANCE_CHECK']);
  });
});

describe('run gates and governance', () => {
  it('lets only an active tenant execute', () => {
    expect(lifecycleGate('active')).toMatchObject({ allowed: true, gate: 'lifecycle' });
    expect(lifecycleGate('suspended')).toEqual({ allowed: false, gate: 'lifecycle', outcome: 'block', reason: 'the tenant is suspended' });
    expect(lifecycleGate(undefined)).toMatchObject({ allowed: false, reason: 'the tenant does not exist' });
  });

  it('limits steps by the tenant rule, never above the global ceiling', () => {
    expect(stepCountGate(3, { maxSteps: 2 })).toMatchObject({ allowed: false, gate: 'governance' });
    expect(stepCountGate(2, { maxSteps: 2 }).allowed).toBe(true);
    expect(stepCountGate(21, {}).allowed).toBe(false);
  });

  it('rejects on hard limits, asks for approval above the debit threshold, passes otherwise', () => {
    const policy = runPolicyFromRules([
      { rule: 'max_debit_total', params: { limit: 100 } },
      { rule: 'forbidden_step_kinds', params: { kinds: ['records.delete'] } },
      { rule: 'require_approval_over_debit', params: { threshold: 50 } },
    ]);
    expect(evaluateGovernance(policy, { executedKinds: ['credits.debit'], totalDebited: 10 })).toEqual({ outcome: 'pass', violations: [] });
    expect(evaluateGovernance(policy, { executedKinds: ['credits.debit'], totalDebited: 60 })).toMatchObject({ outcome: 'approval_required', timeoutSeconds: 86_400 });
    expect(evaluateGovernance(policy, { executedKinds: ['records.delete', 'credits.debit'], totalDebited: 150 })).toEqual({
      outcome: 'reject',
      violations: ['max_debit_total: debited 150, the limit is 100', 'forbidden_step_kinds: the run used records.delete'],
    });
  });

  it('refuses a stored rule whose parameters do not parse', () => {
    expect(() => runPolicyFromRules([{ rule: 'max_steps', params: { limit: 'ten' } }])).toThrow();
  });
});

describe('audit findings', () => {
  const now = new Date('2026-01-01T12:00:00Z');
  it('counts missing only on finished runs, drift always, stale past the deadline', () => {
    const expectations = [
      { key: 'step:0', kind: 'step' as const, waivedReason: null },
      { key: 'step:1', kind: 'step' as const, waivedReason: 'rolled back' },
      { key: 'finalize_run', kind: 'finalize' as const, waivedReason: null },
    ];
    expect(auditFindings({ expectations, ackedKeys: ['step:9'], finished: false, finalizeDeadline: new Date('2026-01-01T13:00:00Z') }, now)).toEqual([{ kind: 'drift', key: 'step:9' }]);
    expect(auditFindings({ expectations, ackedKeys: [], finished: true, finalizeDeadline: new Date('2026-01-01T11:00:00Z') }, now)).toEqual([
      { kind: 'missing', key: 'step:0' },
      { kind: 'missing', key: 'finalize_run' },
      { kind: 'stale', key: 'finalize_run' },
    ]);
    expect(auditFindings({ expectations, ackedKeys: ['step:0', 'finalize_run'], finished: true, finalizeDeadline: null }, now)).toEqual([]);
  });
});
