import { ApplicationFailure } from '@temporalio/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import { RunFailure, type RunFailureType } from '../src/contracts/run';
import { activePolicyOf, type ActivePolicy } from '../src/db/policy-rules';
import { allow, block, type GateDecision } from '../src/domain/gate-decision';
import type { GateRecorder } from '../src/gates/gate-recorder';
import { runExecutionSwitchDecision, type KillSwitches } from '../src/gates/kill-switch-gate';
import { lifecycleGate } from '../src/domain/run-policy';
import { tenantSchemaName, type TenantStatus } from '../src/domain/tenant-status';

export interface RunGuardOptions {
  /** DISABLE_RUN_EXECUTION stops running work at its next step. */
  switches?: KillSwitches;
  /** Where each decision is counted and stored (gate_decisions_total, the watch lists), boundary `run_step`. */
  gates?: GateRecorder;
}

/** What a step may rely on once the guard let it through. */
export interface GuardedState extends ActivePolicy {
  /** Whether the tenant's own schema (records, ledger) exists: offboarding drops it. */
  tenantTablesPresent: boolean;
}

/** What the guard read: the tenant's status, its active policy, whether its schema exists, and any columns read alongside. */
export interface GuardReading {
  status: TenantStatus | undefined;
  active: ActivePolicy;
  tenantTablesPresent: boolean;
  alongside: Record<string, unknown>;
}

/** Columns a caller reads in the guard's own statement (one round trip fewer), with their parameters. */
export interface AlongsideRead {
  columns: string;
  params: unknown[];
}

/**
 * What the guard reads, in one round trip: tenant.status and the active policy rules, both share-locked (a suspension
 * or a rule change waits for the step in flight and is seen by the next one), whether the tenant's schema exists, and
 * the caller's `alongside` columns (evaluated after these, in select-list order).
 */
export async function readGuardedState(em: EntityManager, tenantId: string, alongside?: AlongsideRead): Promise<GuardReading> {
  const rows = await em.execute<Array<{ status: TenantStatus | null; rules: Array<{ rule: string; params: unknown }>; tables_present: boolean } & Record<string, unknown>>>(
    `with locked_tenant as (select status from tenant where id = ? for share),
          active_rules as (select rule, params from policy_rule where tenant_id = ? and active order by rule for share)
     select (select status from locked_tenant) as status,
            coalesce((select json_agg(json_build_object('rule', rule, 'params', params) order by rule) from active_rules), '[]'::json) as rules,
            to_regclass(?) is not null as tables_present${alongside ? `, ${alongside.columns}` : ''}`,
    [tenantId, tenantId, `${tenantSchemaName(tenantId)}.credit_ledger`, ...(alongside?.params ?? [])],
  );
  const { status = null, rules = [], tables_present: tablesPresent = false, ...rest } = rows[0] ?? {};
  return { status: status ?? undefined, active: activePolicyOf(rules), tenantTablesPresent: tablesPresent === true, alongside: rest };
}

const POLICY_CHANGED = "the tenant's policy rules changed since the run was authorised";

/**
 * The mid-run check on what the guard read, inside the transaction of the step it guards: run execution is not
 * switched off, the tenant's lifecycle still allows execution and its active policy is the one the run was authorised
 * under. Each refusal is permanent for this run (it rolls back).
 */
export function judgeGuardedState(
  reading: GuardReading,
  context: { runId: string; tenantId: string; policyFingerprint: string },
  options: RunGuardOptions = {},
): GuardedState {
  const { status, active, tenantTablesPresent } = reading;
  const checks: Array<{ decide: () => GateDecision; failure: RunFailureType }> = [
    ...(options.switches ? [{ decide: () => runExecutionSwitchDecision(options.switches!), failure: RunFailure.TenantHalted }] : []),
    { decide: () => lifecycleGate(status), failure: RunFailure.TenantHalted },
    {
      decide: () => (active.fingerprint === context.policyFingerprint ? allow('governance', 'policy unchanged') : block('governance', POLICY_CHANGED)),
      failure: RunFailure.PolicyChanged,
    },
  ];
  for (const check of checks) {
    const decision = check.decide();
    options.gates?.record(decision, { boundary: 'run_step', tenantId: context.tenantId, runId: context.runId });
    if (!decision.allowed) throw ApplicationFailure.create({ type: check.failure, message: `halted: ${decision.reason}`, nonRetryable: true });
  }
  return { ...active, tenantTablesPresent };
}

/** The guard's read and its judgement; `alongside` columns come back with the state they were read with. */
export async function assertRunMayProceed(
  em: EntityManager,
  context: { runId: string; tenantId: string; policyFingerprint: string },
  options: RunGuardOptions = {},
  alongside?: AlongsideRead,
): Promise<GuardedState & { alongside: Record<string, unknown> }> {
  const reading = await readGuardedState(em, context.tenantId, alongside);
  return { ...judgeGuardedState(reading, context, options), alongside: reading.alongside };
}
