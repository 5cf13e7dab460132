import type { BillingStateSource } from '../billing/billing-state-source';
import type { EntityManager } from '@mikro-orm/postgresql';
import { firstRefusal, type GateDecision } from '../domain/gate-decision';
import { Limits } from '../domain/limits';
import type { TenantStatus } from '../domain/tenant-status';
import type { GateRecorder } from '../gates/gate-recorder';
import type { KillSwitches } from '../gates/kill-switch-gate';
import type { PlatformCeilings, RunCounts } from '../gates/protection-gate';
import { runSubmissionDecisions } from '../gates/run-admission';
import type { UnverifiedLimits } from '../domain/email-verification';

/** How many of a tenant's runs started recently and how many are still in flight, read from the run table. */
export async function readRunCounts(em: EntityManager, tenantId: string): Promise<RunCounts> {
  const [row] = await em.execute<Array<{ last_minute: string; last_day: string; in_flight: string }>>(
    `select count(*) filter (where created_at > now() - interval '1 minute') as last_minute,
            count(*) filter (where created_at > now() - interval '1 day') as last_day,
            count(*) filter (where phase not in ('COMPLETED', 'FAILED')) as in_flight
       from run where tenant_id = ?`,
    [tenantId],
  );
  return { startedLastMinute: Number(row?.last_minute ?? 0), startedLastDay: Number(row?.last_day ?? 0), inFlight: Number(row?.in_flight ?? 0) };
}

/** Decides inside the reserving transaction, on its connection: the first refusal, or undefined to admit. */
export type AdmissionCheck = (em: EntityManager) => Promise<GateDecision | undefined>;

/**
 * The execution boundary of run submission: kill switch, lifecycle, billing (runs allowed at all, and the plan's
 * steps per run), protection, each decision recorded
 * (event and counter) and the first refusal returned for the API to turn into 403/429/503. The billing view is read
 * first, on a connection of its own; the check then counts the tenant's runs inside the transaction that reserves the
 * run, under the tenant's admission lock, so the counts cannot change before the reservation is written. (Reading the
 * view under the lock would hold one pooled connection while asking for another: a burst could exhaust the pool.)
 */
export function createRunAdmission(deps: { billing: BillingStateSource; gates: GateRecorder; switches: KillSwitches; platform: PlatformCeilings; unverified?: UnverifiedLimits }) {
  return async function admit(tenantId: string, tenantStatus: TenantStatus, stepCount: number): Promise<AdmissionCheck> {
    const view = await deps.billing.viewOf(tenantId);
    return async (em) => {
      const counts = await readRunCounts(em, tenantId);
      const [tenant] = deps.unverified ? await em.execute<Array<{ email_verification: string }>>('select email_verification from tenant where id = ?', [tenantId]) : [];
      const decisions = runSubmissionDecisions({
        unverifiedRunsPerDay: tenant?.email_verification === 'pending' ? deps.unverified?.runsPerDay : undefined,
        switches: deps.switches,
        tenantStatus,
        subscriptionState: view?.subscriptionState ?? 'unknown',
        limits: view?.limits ?? Limits.trialEquivalent(),
        counts,
        platform: deps.platform,
        stepCount,
      });
      for (const decision of decisions) deps.gates.record(decision, { boundary: 'run_submission', tenantId });
      return firstRefusal(decisions);
    };
  };
}

export type RunAdmission = ReturnType<typeof createRunAdmission>;
