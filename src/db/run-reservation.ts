import type { EntityManager } from '@mikro-orm/postgresql';
import { recordRunAudit } from './run-trail';

/**
 * Serialises everything that counts or changes a tenant's admitted runs: admission, and the release of a reservation
 * whose workflow never started. A transaction-scoped advisory lock: it goes with the transaction, whatever ends it.
 */
export const lockTenantAdmissions = (em: EntityManager, tenantId: string) =>
  em.execute(`select pg_advisory_xact_lock(hashtextextended(?, 0))`, [`run-admission:${tenantId}`]);

/**
 * Gives a reservation's slot back: the run's row (still CREATED, so no step ran) and its expectations go, and the
 * audit says why. A key retried later is admitted afresh. False when the run had moved on and nothing was released.
 */
export async function releaseRunReservation(
  em: EntityManager,
  run: { runId: string; tenantId: string },
  why: { action: 'run.start_failed' | 'run.reservation_released'; actor?: string; reason?: string },
): Promise<boolean> {
  await lockTenantAdmissions(em, run.tenantId);
  const deleted = await em.execute<Array<{ id: string }>>(`delete from run where id = ? and phase = 'CREATED' returning id`, [run.runId]);
  if (deleted.length === 0) return false;
  await em.execute(`delete from run_expectation where run_id = ?`, [run.runId]);
  await recordRunAudit(em, run, why.action, why.action === 'run.start_failed' ? 'start_failed' : 'reservation_released', {
    actor: why.actor,
    reason: why.reason,
    to: 'released',
  });
  return true;
}
