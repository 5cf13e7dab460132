import { ApplicationFailure } from '@temporalio/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import { RunFailure } from '../src/contracts/run';
import { readActivePolicy } from '../src/db/policy-rules';
import { runExecutionSwitchDecision, type KillSwitches } from '../src/gates/kill-switch-gate';
import { lifecycleGate } from '../src/domain/run-policy';
import type { TenantStatus } from '../src/domain/tenant-status';

/** tenant.status, share-locked: a suspension waits for a step in flight and is seen by the next one. */
export async function readTenantStatus(em: EntityManager, tenantId: string): Promise<TenantStatus | undefined> {
  const rows = await em.execute<Array<{ status: TenantStatus }>>(`select status from tenant where id = ? for share`, [tenantId]);
  return rows[0]?.status;
}

/**
 * The mid-run check, inside the transaction of the step it guards: run execution is not switched off, the tenant's
 * lifecycle still allows execution and its active policy is the one the run was authorised under. Each refusal is
 * permanent for this run (it rolls back).
 */
export async function assertRunMayProceed(em: EntityManager, context: { tenantId: string; policyFingerprint: string }, switches?: KillSwitches): Promise<void> {
  const killSwitch = switches ? runExecutionSwitchDecision(switches) : undefined;
  if (killSwitch && !killSwitch.allowed) {
    throw ApplicationFailure.create({ type: RunFailure.TenantHalted, message: `halted: ${killSwitch.reason}`, nonRetryable: true });
  }
  const lifecycle = lifecycleGate(await readTenantStatus(em, context.tenantId));
  if (!lifecycle.allowed) {
    throw ApplicationFailure.create({ type: RunFailure.TenantHalted, message: `halted: ${lifecycle.reason}`, nonRetryable: true });
  }
  const { fingerprint } = await readActivePolicy(em, context.tenantId);
  if (fingerprint !== context.policyFingerprint) {
    throw ApplicationFailure.create({
      type: RunFailure.PolicyChanged,
      message: "halted: the tenant's policy rules changed since the run was authorised",
      nonRetryable: true,
    });
  }
}
