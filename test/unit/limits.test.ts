import { billingRunDecision } from '../../src/gates/billing-gate';
import { runSubmissionDecisions, type RunSubmissionState } from '../../src/gates/run-admission';
import { firstRefusal } from '../../src/domain/gate-decision';
import { Limits } from '../../src/domain/limits';
import { PLAN_MAX_STEPS } from '../../src/domain/step-kinds';
import { PLANS, SUBSCRIPTION_STATES } from '../../src/domain/tenant-status';

describe('Limits.derive', () => {
  it('gives trial limits during a trial, whatever the plan', () => {
    for (const plan of PLANS) expect(Limits.derive(plan, 'trial')).toEqual({ runsPerDay: 100, concurrentRuns: 2, stepsPerRun: 5, seats: 3, requestsPerMinute: 300, invitationsPerDay: 10 });
  });

  it('gives each plan its own limits when active, rising with the plan', () => {
    const active = PLANS.map((plan) => Limits.derive(plan, 'active'));
    expect(active[1]).toEqual({ runsPerDay: 1_000, concurrentRuns: 5, stepsPerRun: 10, seats: 5, requestsPerMinute: 1_200, invitationsPerDay: 25 });
    for (let index = 1; index < active.length; index += 1) {
      for (const field of ['runsPerDay', 'concurrentRuns', 'stepsPerRun', 'seats', 'requestsPerMinute', 'invitationsPerDay'] as const) expect(active[index]![field]).toBeGreaterThan(active[index - 1]![field]);
    }
  });

  it('squeezes a tenant in grace to a tenth of its daily runs, one at a time, keeping its steps per run and request budget', () => {
    expect(Limits.derive('trial', 'grace')).toEqual({ runsPerDay: 10, concurrentRuns: 1, stepsPerRun: 5, seats: 3, requestsPerMinute: 300, invitationsPerDay: 10 });
    expect(Limits.derive('pro', 'grace')).toEqual({ runsPerDay: 1_000, concurrentRuns: 1, stepsPerRun: 15, seats: 25, requestsPerMinute: 6_000, invitationsPerDay: 100 });
  });

  it('allows no runs when expired or suspended, keeps the team its seats, requests at the trial budget and invitations at the trial\'s', () => {
    for (const state of ['expired', 'suspended'] as const) {
      expect(Limits.derive('starter', state)).toEqual({ runsPerDay: 0, concurrentRuns: 0, stepsPerRun: 0, seats: 5, requestsPerMinute: 300, invitationsPerDay: 10 });
    }
  });

  it('keeps every steps-per-run limit within the hard cap of a plan, so each one is reachable; the fallback is the trial', () => {
    for (const plan of PLANS) for (const state of SUBSCRIPTION_STATES) expect(Limits.derive(plan, state).stepsPerRun).toBeLessThanOrEqual(PLAN_MAX_STEPS);
    expect(Limits.derive('enterprise', 'active').stepsPerRun).toBe(PLAN_MAX_STEPS);
    expect(Limits.trialEquivalent()).toEqual(Limits.derive('trial', 'trial'));
  });
});

describe('billing gate', () => {
  it('blocks a run when the subscription allows no runs, naming the state', () => {
    expect(billingRunDecision(Limits.derive('trial', 'expired'), 'expired', 1)).toEqual({ allowed: false, gate: 'billing', outcome: 'block', reason: 'subscription is expired: the plan allows no runs' });
    expect(billingRunDecision(Limits.derive('trial', 'trial'), 'trial', 1).allowed).toBe(true);
  });

  it("blocks a plan longer than the plan's steps per run, and allows one exactly at it", () => {
    const trial = Limits.derive('trial', 'trial');
    expect(billingRunDecision(trial, 'trial', 5).allowed).toBe(true);
    expect(billingRunDecision(trial, 'trial', 6)).toEqual({ allowed: false, gate: 'billing', outcome: 'block', reason: "a run of 6 steps is over the plan's limit of 5 steps per run" });
    expect(billingRunDecision(Limits.derive('enterprise', 'active'), 'active', PLAN_MAX_STEPS).allowed).toBe(true);
  });
});

describe('run admission: limits enforced at submission', () => {
  const state = (overrides: Partial<RunSubmissionState> = {}): RunSubmissionState => ({
    switches: { disableSignup: false, disableRunExecution: false, readOnlyMode: false },
    tenantStatus: 'active',
    subscriptionState: 'trial',
    limits: Limits.derive('trial', 'trial'),
    counts: { startedLastMinute: 0, startedLastDay: 0, inFlight: 0 },
    platform: { burstPerMinute: 60, runsPerDay: 100_000, concurrentRuns: 200 },
    stepCount: 3,
    ...overrides,
  });

  it('admits a run that every gate allows, each gate deciding once', () => {
    const decisions = runSubmissionDecisions(state());
    expect(decisions.map((decision) => decision.gate)).toEqual(['kill_switch', 'lifecycle', 'billing', 'protection']);
    expect(firstRefusal(decisions)).toBeUndefined();
  });

  it.each([
    ['a suspended tenant', { tenantStatus: 'suspended' as const }, 'lifecycle', 'block'],
    ['an expired trial', { subscriptionState: 'expired' as const, limits: Limits.derive('trial', 'expired') }, 'billing', 'block'],
    ['a plan longer than the trial allows', { stepCount: 6 }, 'billing', 'block'],
    ['the trial’s daily runs used', { counts: { startedLastMinute: 0, startedLastDay: 100, inFlight: 0 } }, 'protection', 'throttle'],
    ['grace allowing one run at a time', { subscriptionState: 'grace' as const, limits: Limits.derive('trial', 'grace'), counts: { startedLastMinute: 0, startedLastDay: 0, inFlight: 1 } }, 'protection', 'throttle'],
  ])('refuses submission for %s by the right gate', (_name, overrides, gate, outcome) => {
    expect(firstRefusal(runSubmissionDecisions(state(overrides)))).toMatchObject({ gate, outcome });
  });
});
