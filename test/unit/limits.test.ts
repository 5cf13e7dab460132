import { billingRunDecision, billingSeatDecision, billingStepDecision } from '../../src/gates/billing-gate';
import { runStepDecisions, runSubmissionDecisions, type RunSubmissionState } from '../../src/gates/run-admission';
import { firstRefusal } from '../../src/domain/gate-decision';
import { Limits } from '../../src/domain/limits';
import { PLANS, SUBSCRIPTION_STATES } from '../../src/domain/tenant-status';

describe('Limits.derive', () => {
  it('gives trial limits during a trial, whatever the plan', () => {
    for (const plan of PLANS) expect(Limits.derive(plan, 'trial')).toEqual({ runsPerDay: 100, concurrentRuns: 2, stepsPerRun: 50, seats: 3 });
  });

  it('gives each plan its own limits when active, rising with the plan', () => {
    const active = PLANS.map((plan) => Limits.derive(plan, 'active'));
    expect(active[1]).toEqual({ runsPerDay: 1_000, concurrentRuns: 5, stepsPerRun: 200, seats: 10 });
    for (let index = 1; index < active.length; index += 1) {
      for (const field of ['runsPerDay', 'concurrentRuns', 'stepsPerRun', 'seats'] as const) expect(active[index]![field]).toBeGreaterThan(active[index - 1]![field]);
    }
  });

  it('squeezes a tenant in grace to a tenth of its daily runs, one at a time, keeping steps and seats', () => {
    expect(Limits.derive('trial', 'grace')).toEqual({ runsPerDay: 10, concurrentRuns: 1, stepsPerRun: 50, seats: 3 });
    expect(Limits.derive('pro', 'grace')).toEqual({ runsPerDay: 1_000, concurrentRuns: 1, stepsPerRun: 1_000, seats: 50 });
  });

  it('allows no runs when expired or suspended, but keeps seats so people can sign in, export and pay', () => {
    for (const state of ['expired', 'suspended'] as const) {
      expect(Limits.derive('starter', state)).toEqual({ runsPerDay: 0, concurrentRuns: 0, stepsPerRun: 0, seats: 10 });
    }
  });

  it('defines every plan and state, and the fallback is the trial', () => {
    for (const plan of PLANS) for (const state of SUBSCRIPTION_STATES) expect(Limits.derive(plan, state).seats).toBeGreaterThan(0);
    expect(Limits.trialEquivalent()).toEqual(Limits.derive('trial', 'trial'));
  });
});

describe('billing gate', () => {
  it('blocks run submission when the subscription allows no runs, naming the state', () => {
    expect(billingRunDecision(Limits.derive('trial', 'expired'), 'expired')).toEqual({ allowed: false, gate: 'billing', outcome: 'block', reason: 'subscription is expired: the plan allows no runs' });
    expect(billingRunDecision(Limits.derive('trial', 'trial'), 'trial').allowed).toBe(true);
  });

  it('stops a run mid-way at its plan’s step ceiling', () => {
    const limits = Limits.derive('trial', 'trial');
    expect(billingStepDecision(limits, 49).allowed).toBe(true);
    expect(billingStepDecision(limits, 50)).toMatchObject({ allowed: false, gate: 'billing', reason: 'step limit of 50 per run reached' });
  });

  it('counts seats against the plan', () => {
    expect(billingSeatDecision(Limits.derive('trial', 'trial'), 2).allowed).toBe(true);
    expect(billingSeatDecision(Limits.derive('trial', 'trial'), 3).allowed).toBe(false);
  });
});

describe('run admission: limits enforced at submission and mid-run', () => {
  const state = (overrides: Partial<RunSubmissionState> = {}): RunSubmissionState => ({
    switches: { disableSignup: false, disableRunExecution: false, readOnlyMode: false, globalRateLimitPerMinute: 0 },
    tenantStatus: 'active',
    subscriptionState: 'trial',
    limits: Limits.derive('trial', 'trial'),
    counts: { startedLastMinute: 0, startedLastDay: 0, inFlight: 0 },
    platform: { burstPerMinute: 60, runsPerDay: 100_000, concurrentRuns: 200 },
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
    ['the trial’s daily runs used', { counts: { startedLastMinute: 0, startedLastDay: 100, inFlight: 0 } }, 'protection', 'throttle'],
    ['grace allowing one run at a time', { subscriptionState: 'grace' as const, limits: Limits.derive('trial', 'grace'), counts: { startedLastMinute: 0, startedLastDay: 0, inFlight: 1 } }, 'protection', 'throttle'],
  ])('refuses submission for %s by the right gate', (_name, overrides, gate, outcome) => {
    expect(firstRefusal(runSubmissionDecisions(state(overrides)))).toMatchObject({ gate, outcome });
  });

  it('stops a running run when its tenant is suspended or its step ceiling is reached', () => {
    const limits = Limits.derive('trial', 'trial');
    const step = { switches: state().switches, tenantStatus: 'active' as const, limits, stepsTaken: 10 };
    expect(firstRefusal(runStepDecisions(step))).toBeUndefined();
    expect(firstRefusal(runStepDecisions({ ...step, tenantStatus: 'suspended' }))).toMatchObject({ gate: 'lifecycle', reason: 'tenant is suspended: run steps cannot execute' });
    expect(firstRefusal(runStepDecisions({ ...step, stepsTaken: 50 }))).toMatchObject({ gate: 'billing' });
  });
});
