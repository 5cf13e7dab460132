import type { Plan, SubscriptionState } from './tenant-status';

/** What a tenant may consume under its plan and subscription state. */
export interface Limits {
  runsPerDay: number;
  concurrentRuns: number;
  /** Steps a run's plan may hold; at most PLAN_MAX_STEPS (20), the hard cap of every plan. */
  stepsPerRun: number;
  /** People in the tenant: members plus pending invitations. Held by the plan whatever the subscription state. */
  seats: number;
  /**
   * API requests per minute the whole tenant may make, every credential together (src/domain/request-budget.ts gives
   * one credential its share). Counted per minute across every API process.
   */
  requestsPerMinute: number;
  /** Invitation mails a day (src/domain/mail-ration.ts); an unverified tenant gets fewer whatever its plan. */
  invitationsPerDay: number;
}

const PLAN_LIMITS: Record<Plan, Limits> = {
  trial: { runsPerDay: 100, concurrentRuns: 2, stepsPerRun: 5, seats: 3, requestsPerMinute: 300, invitationsPerDay: 10 },
  starter: { runsPerDay: 1_000, concurrentRuns: 5, stepsPerRun: 10, seats: 5, requestsPerMinute: 1_200, invitationsPerDay: 25 },
  pro: { runsPerDay: 10_000, concurrentRuns: 25, stepsPerRun: 15, seats: 25, requestsPerMinute: 6_000, invitationsPerDay: 100 },
  enterprise: { runsPerDay: 100_000, concurrentRuns: 200, stepsPerRun: 20, seats: 1_000, requestsPerMinute: 30_000, invitationsPerDay: 1_000 },
};

/** Grace keeps a tenant working but visibly squeezed: a tenth of its daily runs, one at a time. */
const GRACE_RUNS_FRACTION = 10;

function derive(plan: Plan, subscriptionState: SubscriptionState): Limits {
  switch (subscriptionState) {
    // A trial runs on trial limits whatever plan it is a trial of.
    case 'trial':
      return { ...PLAN_LIMITS.trial };
    case 'active':
      return { ...PLAN_LIMITS[plan] };
    case 'grace': {
      const base = PLAN_LIMITS[plan];
      return { ...base, runsPerDay: Math.max(1, Math.ceil(base.runsPerDay / GRACE_RUNS_FRACTION)), concurrentRuns: 1 };
    }
    // No runs. People can still sign in, export and pay: that is the lifecycle's business, not billing's. The team
    // keeps the plan's seats: nobody is removed for an unpaid bill. Reading, exporting and paying need no more
    // requests than a trial makes; invitations shrink to the trial's.
    case 'expired':
    case 'suspended':
      return { runsPerDay: 0, concurrentRuns: 0, stepsPerRun: 0, seats: PLAN_LIMITS[plan].seats, requestsPerMinute: PLAN_LIMITS.trial.requestsPerMinute, invitationsPerDay: PLAN_LIMITS.trial.invitationsPerDay };
  }
}

export const Limits = {
  derive,
  /** What a tenant gets when its billing state cannot be known: as if it were on trial. */
  trialEquivalent: (): Limits => derive('trial', 'trial'),
};

/** Days between the end of a trial and its expiry. The trial's own length is TRIAL_DAYS. */
export const GRACE_DAYS = 7;
