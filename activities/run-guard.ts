import { ApplicationFailure } from '@temporalio/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import { RunFailure } from '../src/contracts/run';
import { readActivePolicy } from '../src/db/policy-rules';
import { lifecycleGate } from '../src/domain/run-policy';
import type { TenantStatus } from '../src/domain/tenant-status';

/** tenant.status, share-locked: a suspension waits for a step in flight and is seen by the next one. */
export async function readTenantStatus(em: EntityManager, tenantId: string): Promise<TenantStatus | undefined> {
  const rows = await em.execute<Array<{ status: TenantStatus }>>(`select status from tenant where id = ? for share`, [tenantId]);
  return rows[0]?.status;
}

/**
 * The mid-run check, inside the transaction of the step it guards: the tenant's lifecycle still allows execution and
 * its active policy is the one the run was authorised under. Either refusal is permanent for this run.
 */
export async function assertRunMayProceed(em: EntityManager, context: { tenantId: string; policyFingerprint: string }): Promise<void> {
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
