import type { BillingStateSource } from '../billing/billing-state-source';
import type { Orm } from '../db/orm';
import { firstRefusal, type GateDecision } from '../domain/gate-decision';
import { Limits } from '../domain/limits';
import type { TenantStatus } from '../domain/tenant-status';
import type { GateRecorder } from '../gates/gate-recorder';
import type { KillSwitches } from '../gates/kill-switch-gate';
import type { PlatformCeilings, RunCounts } from '../gates/protection-gate';
import { runSubmissionDecisions } from '../gates/run-admission';

/** How many of a tenant's runs started recently and how many are still in flight, read from the run table. */
export async function readRunCounts(orm: Orm, tenantId: string): Promise<RunCounts> {
  const [row] = await orm.em.fork().execute<Array<{ last_minute: string; last_day: string; in_flight: string }>>(
    `select count(*) filter (where created_at > now() - interval '1 minute') as last_minute,
            count(*) filter (where created_at > now() - interval '1 day') as last_day,
            count(*) filter (where phase not in ('COMPLETED', 'FAILED')) as in_flight
       from run where tenant_id = ?`,
    [tenantId],
  );
  return { startedLastMinute: Number(row?.last_minute ?? 0), startedLastDay: Number(row?.last_day ?? 0), inFlight: Number(row?.in_flight ?? 0) };
}

/**
 * The execution boundary of run submission: kill switch, lifecycle, billing, protection, each decision recorded
 * (event and counter) and the first refusal returned for the API to turn into 403/429/503.
 */
export function createRunAdmission(deps: { orm: Orm; billing: BillingStateSource; gates: GateRecorder; switches: KillSwitches; platform: PlatformCeilings }) {
  return async function admit(tenantId: string, tenantStatus: TenantStatus): Promise<GateDecision | undefined> {
    const [view, counts] = await Promise.all([deps.billing.viewOf(tenantId), readRunCounts(deps.orm, tenantId)]);
    const decisions = runSubmissionDecisions({
      switches: deps.switches,
      tenantStatus,
      subscriptionState: view?.subscriptionState ?? 'unknown',
      limits: view?.limits ?? Limits.trialEquivalent(),
      counts,
      platform: deps.platform,
    });
    for (const decision of decisions) deps.gates.record(decision, { boundary: 'run_submission', tenantId });
    return firstRefusal(decisions);
  };
}

export type RunAdmission = ReturnType<typeof createRunAdmission>;
