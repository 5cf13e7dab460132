import type { EntityManager } from '@mikro-orm/postgresql';
import { Limits } from '../domain/limits';
import type { Plan, SubscriptionState } from '../domain/tenant-status';

export interface SeatCount {
  limit: number;
  members: number;
  pending: number;
}

/**
 * Membership changes of one tenant (invite, accept, change a role, remove) queue here, one transaction at a time, as
 * run admissions do: the seat count and the last-owner rule are read and written under the same lock.
 */
export const lockTenantSeats = (em: EntityManager, tenantId: string) => em.execute(`select pg_advisory_xact_lock(hashtextextended(?, 0))`, [`tenant-seats:${tenantId}`]);

/** Seats by the tenant's plan (read in the caller's transaction, not from the billing cache), members and pending invitations. */
export async function countSeats(em: EntityManager, tenantId: string, exceptInvitationId?: string): Promise<SeatCount> {
  const [row] = await em.execute<Array<{ plan: Plan | null; subscription_state: SubscriptionState | null; members: string; pending: string }>>(
    `select b.plan, b.subscription_state,
            (select count(*) from tenant_membership m where m.tenant_id = ?) as members,
            (select count(*) from invitation i where i.tenant_id = ? and i.status = 'pending' and i.id is distinct from ?) as pending
       from (select 1) one left join billing_account b on b.tenant_id = ?`,
    [tenantId, tenantId, exceptInvitationId ?? null, tenantId],
  );
  const limits = row?.plan && row.subscription_state ? Limits.derive(row.plan, row.subscription_state) : Limits.trialEquivalent();
  return { limit: limits.seats, members: Number(row?.members ?? 0), pending: Number(row?.pending ?? 0) };
}
