import type { EntityManager } from '@mikro-orm/postgresql';
import { log } from '@temporalio/activity';
import type {
  AuthorizationResult,
  GovernanceResult,
  RunCause,
  RunContext,
  RunInput,
  RunOverride,
  RunStepContext,
  RunStepStatus,
} from '../src/contracts/run';
import { advanceOnboarding } from '../src/db/onboarding';
import type { Orm } from '../src/db/orm';
import { acknowledgeWithAudit, applyWithTrail, declareExpectations, movePhaseWithAudit, recordRunAudit, waiveUnmetExpectations, type Change } from '../src/db/run-trail';
import type { GateDecision } from '../src/domain/gate-decision';
import { compensationKey, FINALIZE_RUN_KEY, GOVERNANCE_KEY, stepKey } from '../src/domain/run-audit';
import type { RunPhase } from '../src/domain/run-phase';
import { evaluateGovernance, lifecycleGate, stepCountGate } from '../src/domain/run-policy';
import type { RunPlan, StepKind } from '../src/domain/step-kinds';
import { storableText } from '../src/domain/storable-text';
import { openRunRecords, storedRunJson } from '../src/db/run-opening';
import { tenantSchemaName, type OnboardingState } from '../src/domain/tenant-status';
import type { GateRecorder } from '../src/gates/gate-recorder';
import type { KillSwitches } from '../src/gates/kill-switch-gate';
import { assertRunMayProceed, judgeGuardedState, readGuardedState, type GuardReading } from './run-guard';

/**
 * An execution-boundary gate beyond the lifecycle and step-count gates: abuse protection and billing limits plug in
 * here (RunDependencies.executionGates) and run inside authorizeRun's transaction, in order, until one refuses.
 */
export type ExecutionGate = (em: EntityManager, request: { runId: string; tenantId: string; stepCount: number }) => Promise<GateDecision>;

export interface RunDependencies {
  orm: Orm;
  executionGates?: ExecutionGate[];
  /** DISABLE_RUN_EXECUTION stops running work at its next step, not only new submissions. */
  killSwitches?: KillSwitches;
  /** Records every decision at AUTHORIZED (boundary run_authorize) and of the mid-run guard (run_step), as the API's are. */
  gates?: GateRecorder;
  /** Slack on top of a run's planned waiting before a missing finalize_run ack counts as stale. */
  staleGraceMs?: number;
  now?: () => Date;
}



export interface RunClosing extends RunContext {
  workflowId: string;
  plan: RunPlan;
  submittedBy: string;
  steps: RunStepStatus[];
  degraded: boolean;
}

/**
 * The run's own bookkeeping: its row, declared expectations, authorisation, phase trace, governance verdict,
 * approvals, rollback and close. Every write is keyed by runId so a retried activity changes nothing twice.
 */
export function createRunActivities(deps: RunDependencies) {
  const now = deps.now ?? (() => new Date());
  const transaction = <T>(work: (em: EntityManager) => Promise<T>) => deps.orm.em.fork().transactional(work);
  const guard = { switches: deps.killSwitches, gates: deps.gates };

  /** A phase trace: the row moved forward and its audit event, unless the row is there already (or not yet). */
  const tracePhase = (em: EntityManager, run: RunContext, phase: RunPhase) => movePhaseWithAudit(em, run, phase, 'run.phase_changed', `phase:${phase}`);

  /**
   * The run's final row, created if the opening trace never landed; a finished row is never rewritten. A run the
   * reconciler aged out while it was unfinished has its audit reopened: it can be judged now. Written with the
   * finalize_run ack and the closing audit event, in one statement (applyWithTrail).
   */
  function closedRow(closing: RunClosing, phase: 'COMPLETED' | 'FAILED', cause: RunCause | null, override: RunOverride | null): Change {
    return {
      sql: `insert into run (id, tenant_id, workflow_id, phase, plan, step_states, outcome, cause, override, degraded, submitted_by, created_at, updated_at, finished_at)
         values (?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?::jsonb, ?::jsonb, ?, ?, now(), now(), now())
         on conflict (id) do update set phase = excluded.phase, step_states = excluded.step_states, outcome = excluded.outcome,
           cause = excluded.cause, override = excluded.override, degraded = run.degraded or excluded.degraded,
           updated_at = now(), finished_at = now(), audit_settled_at = null
         where run.outcome is null
         returning 1`,
      params: [
        closing.runId,
        closing.tenantId,
        closing.workflowId,
        phase,
        storedRunJson(closing.plan),
        storedRunJson(closing.steps),
        phase === 'COMPLETED' ? 'completed' : 'failed',
        cause === null ? null : storedRunJson(cause),
        override === null ? null : storedRunJson(override),
        closing.degraded,
        closing.submittedBy,
      ],
    };
  }

  /**
   * COMPLETED: the row with the finalize_run ack and the closing audit event, the force-complete override if any
   * (audited, with what it skipped), and the forward-only onboarding step (`onboardingSeen`: its state, when the caller
   * already read it).
   */
  async function closeCompleted(em: EntityManager, input: RunClosing, override: RunOverride | null, onboardingSeen?: OnboardingState | null): Promise<void> {
    await applyWithTrail(em, input, { key: FINALIZE_RUN_KEY, action: 'run.completed', effect: 'closed', to: 'COMPLETED', details: { degraded: input.degraded, forced: override !== null } }, [
      closedRow(input, 'COMPLETED', null, override),
    ]);
    if (override) {
      await waiveUnmetExpectations(em, input.runId, `force-completed by ${override.actor}: ${override.reason}`);
      await recordRunAudit(em, input, 'run.force_completed', 'force_completed', {
        actor: override.actor,
        reason: override.reason,
        details: { skippedSteps: override.skippedSteps, skippedGovernance: override.skippedGovernance },
      });
    }
    await advanceOnboarding(em, { tenantId: input.tenantId, milestone: 'run_completed', actor: 'system:run-kernel', correlationId: input.runId, seen: onboardingSeen });
  }

  /**
   * The tenant's rules on what the run actually did (debits read back from its ledger), after the mid-run guard. Pass
   * and reject conclude the checkpoint (acknowledged with the verdict's audit event); approval_required leaves it to
   * recordApproval.
   */
  async function judgeGovernance(em: EntityManager, input: RunContext & { policyFingerprint: string; executedKinds: StepKind[] }, reading?: GuardReading): Promise<GovernanceResult> {
    const { policy } = judgeGuardedState(reading ?? (await readGuardedState(em, input.tenantId)), input, guard);
    await tracePhase(em, input, 'GOVERNANCE_CHECK');
    const debited = await em.execute<Array<{ total: string }>>(
      `select coalesce(sum(-amount), 0) as total from "${tenantSchemaName(input.tenantId)}"."credit_ledger" where amount < 0 and entry_key ~ ?`,
      [`^${input.runId}:[0-9]+$`],
    );
    const totalDebited = Number(debited[0]?.total ?? 0);
    const verdict = evaluateGovernance(policy, { executedKinds: input.executedKinds, totalDebited });
    const action = { pass: 'run.governance_passed', reject: 'run.governance_rejected', approval_required: 'run.approval_requested' }[verdict.outcome];
    const audit = {
      reason: verdict.outcome === 'approval_required' ? verdict.reason : verdict.violations.join('; ') || undefined,
      details: { totalDebited, violations: verdict.violations },
    };
    if (verdict.outcome === 'approval_required') await recordRunAudit(em, input, action, 'governance', audit);
    else await acknowledgeWithAudit(em, input, GOVERNANCE_KEY, action, 'governance', audit);
    return {
      outcome: verdict.outcome,
      violations: verdict.violations,
      totalDebited,
      ...(verdict.outcome === 'approval_required' ? { approval: { reason: verdict.reason, timeoutSeconds: verdict.timeoutSeconds } } : {}),
    };
  }

  return {
    /** CREATED, for a run the API did not admit (started by hand, or before admission wrote it): see openRunRecords. */
    async openRun(input: RunInput & { workflowId: string }): Promise<void> {
      // The API writes the row with the rest of the opening in one transaction: a row means all of it is there.
      const opened = await deps.orm.em.fork().execute(`select 1 from run where id = ?`, [input.runId]);
      if (opened.length > 0) return;
      await transaction((em) => openRunRecords(em, input, { now: now(), staleGraceMs: deps.staleGraceMs }));
    },

    /**
     * AUTHORIZED: the execution-boundary gates in order (lifecycle on tenant.status, step count, then any
     * executionGates), stopping at the first refusal. Also fixes the policy fingerprint the run must keep. With `enter`,
     * an authorised run also moves on to that phase (EXECUTING) in the same transaction, its trace folded in.
     */
    async authorizeRun(input: RunContext & { stepCount: number; enter?: 'EXECUTING' }): Promise<AuthorizationResult> {
      const { result, decisions } = await transaction(async (em) => {
        // tenant.status and the active rules, share-locked, in one round trip (as the mid-run guard reads them).
        const { status, active } = await readGuardedState(em, input.tenantId);
        const { policy, fingerprint } = active;
        const gates: Array<() => Promise<GateDecision>> = [
          async () => lifecycleGate(status),
          async () => stepCountGate(input.stepCount, policy),
          ...(deps.executionGates ?? []).map((gate) => () => gate(em, input)),
        ];
        const taken: GateDecision[] = [];
        for (const gate of gates) {
          taken.push(await gate());
          if (!taken.at(-1)!.allowed) break;
        }
        const final = taken.at(-1)!;
        if (final.allowed) {
          await movePhaseWithAudit(em, input, 'AUTHORIZED', 'run.authorized', 'authorized', { details: { policyFingerprint: fingerprint } });
          if (input.enter) await tracePhase(em, input, input.enter);
        } else {
          await recordRunAudit(em, input, 'run.refused', 'refused', { reason: final.reason, details: { gate: final.gate, outcome: final.outcome } });
        }
        return { result: { allowed: final.allowed, gate: final.gate, reason: final.reason, policyFingerprint: fingerprint }, decisions: taken };
      });
      // Once the decision is committed: an attempt that rolled back decided nothing.
      for (const decision of decisions) deps.gates?.record(decision, { boundary: 'run_authorize', tenantId: input.tenantId, runId: input.runId });
      return result;
    },

    /** A phase trace: the row's phase and an audit event. The workflow treats a failure here as DEGRADED, not fatal. */
    async recordRunPhase(input: RunContext & { phase: RunPhase }): Promise<void> {
      await transaction((em) => tracePhase(em, input, input.phase));
    },

    async markRunDegraded(input: RunContext & { reason: string }): Promise<void> {
      await transaction(async (em) => {
        await em.execute(`update run set degraded = true, updated_at = now() where id = ?`, [input.runId]);
        await recordRunAudit(em, input, 'run.degraded', 'degraded', { reason: input.reason });
      });
      log.warn('run marked degraded', { runId: input.runId, reason: input.reason });
    },

    /** The mid-run check before a step that runs inside the workflow (wait, approval). */
    async checkRunGuard(input: RunStepContext): Promise<void> {
      await transaction((em) => assertRunMayProceed(em, input, guard));
    },

    async completeWaitStep(input: RunContext & { stepIndex: number }): Promise<void> {
      // One statement: atomic without a transaction around it.
      await acknowledgeWithAudit(deps.orm.em.fork(), input, stepKey(input.stepIndex), 'run.step_applied', `${stepKey(input.stepIndex)}:applied`, {
        details: { stepIndex: input.stepIndex, kind: 'wait' },
      });
    },

    /**
     * A human decision (or its absence) on an approval: audited with its actor. An approved step is acknowledged; the
     * governance checkpoint is acknowledged whatever the decision, because it concluded.
     */
    async recordApproval(input: RunContext & { approvalKey: string; decision: 'approved' | 'rejected' | 'timed_out'; actor?: string; note?: string }): Promise<void> {
      await transaction(async (em) => {
        const audit = { actor: input.actor, reason: input.note, details: { approvalKey: input.approvalKey } };
        if (input.decision === 'approved' || input.approvalKey === GOVERNANCE_KEY) {
          await acknowledgeWithAudit(em, input, input.approvalKey, `run.approval_${input.decision}`, `approval:${input.approvalKey}`, audit);
        } else {
          await recordRunAudit(em, input, `run.approval_${input.decision}`, `approval:${input.approvalKey}`, audit);
        }
      });
    },

    /**
     * GOVERNANCE_CHECK: the tenant's rules on what the run actually did (debits read back from its ledger). Pass and
     * reject conclude the checkpoint here; approval_required leaves it to recordApproval.
     */
    async evaluateRunGovernance(input: RunContext & { policyFingerprint: string; executedKinds: StepKind[] }): Promise<GovernanceResult> {
      return transaction((em) => judgeGovernance(em, input));
    },

    /**
     * GOVERNANCE_CHECK and, when the verdict is pass, the close (FINALIZING, COMPLETED) in the same transaction: one
     * local activity at the end of a run where there were two. A reject or an approval leaves the run open, as
     * evaluateRunGovernance does. A retry after the close committed (its worker died before recording the result)
     * finds the run completed and says so without judging it again: a completed run is never rolled back.
     */
    async concludeRun(input: RunClosing & { policyFingerprint: string; executedKinds: StepKind[] }): Promise<GovernanceResult & { closed: boolean }> {
      return transaction(async (em) => {
        // The run's row (locked) and the tenant's onboarding state, read with the guard's own statement.
        const reading = await readGuardedState(em, input.tenantId, {
          columns: `(select outcome from run where id = ? for update) as outcome, (select onboarding_state from tenant where id = ?) as onboarding_state`,
          params: [input.runId, input.tenantId],
        });
        if (reading.alongside.outcome === 'completed') return { outcome: 'pass' as const, violations: [], totalDebited: 0, closed: true };
        const verdict = await judgeGovernance(em, input, reading);
        if (verdict.outcome !== 'pass') return { ...verdict, closed: false };
        await tracePhase(em, input, 'FINALIZING');
        await closeCompleted(em, input, null, reading.alongside.onboarding_state as OnboardingState | null);
        return { ...verdict, closed: true };
      });
    },

    /**
     * Opens a rollback: the steps and checkpoint the run will now never reach are waived with its cause, and each
     * compensation about to run is declared, so the reconciler expects every undo too.
     */
    async beginRollback(input: RunContext & { cause: RunCause; compensatedSteps: number[] }): Promise<void> {
      await transaction(async (em) => {
        await waiveUnmetExpectations(em, input.runId, `rolled back: ${input.cause.type}: ${input.cause.message}`);
        await declareExpectations(em, input.runId, input.compensatedSteps.map((index) => ({ key: compensationKey(index), kind: 'compensation' as const })));
        await recordRunAudit(em, input, 'run.rollback_started', 'rollback', {
          actor: input.cause.actor,
          reason: input.cause.message,
          details: { cause: input.cause, compensatedSteps: input.compensatedSteps },
        });
      });
    },

    /** FAILED: the row, the incident, the finalize_run ack and the audit event in one statement; retried until it commits. */
    async recordRunFailure(input: RunClosing & { cause: RunCause }): Promise<void> {
      // One statement: the row, the incident, the finalize_run ack and the audit event.
      const incident: Change = {
        sql: `insert into run_incident (run_id, tenant_id, failure_type, cause, created_at) values (?, ?, ?, ?::jsonb, now()) on conflict (run_id) do nothing returning 1`,
        params: [input.runId, input.tenantId, storableText(input.cause.type, 200), storedRunJson(input.cause)],
      };
      const trail = { key: FINALIZE_RUN_KEY, action: 'run.failed', effect: 'closed', to: 'FAILED', reason: input.cause.message, details: { cause: input.cause } };
      await applyWithTrail(deps.orm.em.fork(), input, trail, [closedRow(input, 'FAILED', input.cause, null), incident]);
      log.info('run failed', { runId: input.runId, failureType: input.cause.type });
    },

    /** COMPLETED (see closeCompleted) in one transaction; with `traceFinalizing`, the FINALIZING phase trace first, folded in. */
    async finalizeRun(input: RunClosing & { override: RunOverride | null; traceFinalizing?: boolean }): Promise<void> {
      await transaction(async (em) => {
        if (input.traceFinalizing) await tracePhase(em, input, 'FINALIZING');
        await closeCompleted(em, input, input.override);
      });
    },
  };
}

export type RunActivities = ReturnType<typeof createRunActivities>;
