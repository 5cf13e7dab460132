import { ApplicationFailure } from '@temporalio/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import { RunFailure, type RunFailureType } from '../src/contracts/run';
import { readActivePolicy } from '../src/db/policy-rules';
import { allow, block, type GateDecision } from '../src/domain/gate-decision';
import type { GateRecorder } from '../src/gates/gate-recorder';
import { runExecutionSwitchDecision, type KillSwitches } from '../src/gates/kill-switch-gate';
import { lifecycleGate } from '../src/domain/run-policy';
import type { TenantStatus } from '../src/domain/tenant-status';

/** tenant.status, share-locked: a suspension waits for a step in flight and is seen by the next one. */
export async function readTenantStatus(em: EntityManager, tenantId: string): Promise<TenantStatus | undefined> {
  const rows = await em.execute<Array<{ status: TenantStatus }>>(`select status from tenant where id = ? for share`, [tenantId]);
  return rows[0]?.status;
}

export interface RunGuardOptions {
  /** DISABLE_RUN_EXECUTION stops running work at its next step. */
  switches?: KillSwitches;
  /** Where each decision is counted and stored (gate_decisions_total, the watch lists), boundary `run_step`. */
  gates?: GateRecorder;
}

const POLICY_CHANGED = "the tenant's policy rules changed since the run was authorised";

/**
 * The mid-run check, inside the transaction of the step it guards: run execution is not switched off, the tenant's
 * lifecycle still allows execution and its active policy is the one the run was authorised under. Each refusal is
 * permanent for this run (it rolls back).
 */
export async function assertRunMayProceed(em: EntityManager, context: { runId: string; tenantId: string; policyFingerprint: string }, options: RunGuardOptions = {}): Promise<void> {
  const checks: Array<{ decide: () => Promise<GateDecision>; failure: RunFailureType }> = [
    ...(options.switches ? [{ decide: async () => runExecutionSwitchDecision(options.switches!), failure: RunFailure.TenantHalted }] : []),
    { decide: async () => lifecycleGate(await readTenantStatus(em, context.tenantId)), failure: RunFailure.TenantHalted },
    {
      decide: async () => ((await readActivePolicy(em, context.tenantId)).fingerprint === context.policyFingerprint ? allow('governance', 'policy unchanged') : block('governance', POLICY_CHANGED)),
      failure: RunFailure.PolicyChanged,
    },
  ];
  for (const check of checks) {
    const decision = await check.decide();
    options.gates?.record(decision, { boundary: 'run_step', tenantId: context.tenantId, runId: context.runId });
    if (!decision.allowed) throw ApplicationFailure.create({ type: check.failure, message: `halted: ${decision.reason}`, nonRetryable: true });
  }
}
