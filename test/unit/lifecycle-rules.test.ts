import fc from 'fast-check';
import {
  LIFECYCLE_ACTIONS,
  LIFECYCLE_STATES,
  LifecycleRefusal,
  lifecycleRefusal,
  lifecycleTarget,
  MAX_RETENTION_DAYS,
  nextOnboardingState,
  retentionProblem,
  SYSTEM_TENANT_ID,
  type LifecycleAction,
  type LifecycleRefusalType,
  type LifecycleState,
  type OnboardingMilestone,
} from '../../src/domain/lifecycle';
import { ONBOARDING_STATES, type OnboardingState } from '../../src/domain/tenant-status';

const TENANT = '2b7c5a52-8f0e-4c1a-9d3e-5f6a7b8c9d0e';
const ALLOWED = undefined;
const NOT_ALLOWED = LifecycleRefusal.NotAllowed;

/**
 * An ordinary tenant with no offboarding under way, written out rather than derived from the rules: changing who may
 * go where must change this table too. `forceComplete` is left to its activity outside a retention wait.
 */
const ORDINARY: Record<LifecycleState, Record<LifecycleAction, LifecycleRefusalType | undefined>> = {
  active: { suspend: ALLOWED, unsuspend: NOT_ALLOWED, softDelete: ALLOWED, restore: NOT_ALLOWED, terminate: ALLOWED, forceComplete: ALLOWED },
  suspended: { suspend: NOT_ALLOWED, unsuspend: ALLOWED, softDelete: ALLOWED, restore: NOT_ALLOWED, terminate: ALLOWED, forceComplete: ALLOWED },
  pending_deletion: { suspend: NOT_ALLOWED, unsuspend: NOT_ALLOWED, softDelete: NOT_ALLOWED, restore: ALLOWED, terminate: ALLOWED, forceComplete: ALLOWED },
  terminated: {
    suspend: LifecycleRefusal.Terminated,
    unsuspend: LifecycleRefusal.Terminated,
    softDelete: LifecycleRefusal.Terminated,
    restore: LifecycleRefusal.Terminated,
    terminate: LifecycleRefusal.Terminated,
    forceComplete: LifecycleRefusal.Terminated,
  },
};

const SYSTEM_GUARDED = new Set<LifecycleAction>(['suspend', 'softDelete', 'terminate']);

const cells = LIFECYCLE_STATES.flatMap((state) => LIFECYCLE_ACTIONS.map((action) => [state, action] as const));

describe('lifecycle rules: which transition each state allows', () => {
  it.each(cells)('an ordinary %s tenant asked to %s answers as the written table says', (state, action) => {
    const refusal = lifecycleRefusal({ tenantId: TENANT, state, offboarding: false }, action);
    expect(refusal?.type).toBe(ORDINARY[state][action]);
    if (refusal?.type === NOT_ALLOWED) expect(refusal.message).toContain(`a ${state.replace('_', ' ')} tenant cannot be`);
  });

  it.each(LIFECYCLE_ACTIONS)('a terminated tenant refuses %s, whoever it is and whatever is under way (termination is irreversible)', (action) => {
    for (const tenantId of [TENANT, SYSTEM_TENANT_ID]) {
      for (const offboarding of [false, true]) {
        const refusal = lifecycleRefusal({ tenantId, state: 'terminated', offboarding }, action);
        expect(refusal?.type).toBe(LifecycleRefusal.Terminated);
        expect(refusal?.message).toMatch(/irreversible/);
      }
    }
  });

  it.each(cells.filter(([state]) => state !== 'terminated'))('a %s tenant being offboarded refuses %s: there is no way back', (state, action) => {
    expect(lifecycleRefusal({ tenantId: TENANT, state, offboarding: true }, action)?.type).toBe(LifecycleRefusal.Offboarding);
  });

  it.each(cells.filter(([state]) => state !== 'terminated'))('the system tenant, %s, asked to %s: suspend, delete and terminate are refused, the rest follow the table', (state, action) => {
    const refusal = lifecycleRefusal({ tenantId: SYSTEM_TENANT_ID, state, offboarding: false }, action);
    if (SYSTEM_GUARDED.has(action)) {
      expect(refusal?.type).toBe(LifecycleRefusal.SystemTenant);
      expect(refusal?.message).toContain('system tenant');
    } else {
      expect(refusal?.type).toBe(ORDINARY[state][action]);
    }
  });

  it('puts the system tenant guard ahead of an offboarding under way', () => {
    for (const state of LIFECYCLE_STATES.filter((candidate) => candidate !== 'terminated')) {
      for (const action of LIFECYCLE_ACTIONS) {
        const expected = SYSTEM_GUARDED.has(action) ? LifecycleRefusal.SystemTenant : LifecycleRefusal.Offboarding;
        expect(lifecycleRefusal({ tenantId: SYSTEM_TENANT_ID, state, offboarding: true }, action)?.type).toBe(expected);
      }
    }
  });
});

describe('lifecycle rules: where an allowed transition leads', () => {
  it.each([
    ['suspend', 'active', 'suspended'],
    ['unsuspend', 'suspended', 'active'],
    ['softDelete', 'active', 'pending_deletion'],
    ['softDelete', 'suspended', 'pending_deletion'],
    ['terminate', 'active', 'pending_deletion'],
    ['terminate', 'suspended', 'pending_deletion'],
    ['terminate', 'pending_deletion', 'pending_deletion'],
  ] as const)('%s from %s leads to %s (terminate locks the tenant while offboarding runs)', (action, from, to) => {
    expect(lifecycleTarget(action, from, 'active')).toBe(to);
  });

  it.each(['active', 'suspended'] as const)('restore returns a soft-deleted tenant to the state it was deleted from (%s)', (remembered) => {
    expect(lifecycleTarget('restore', 'pending_deletion', remembered)).toBe(remembered);
  });

  it('never leads an allowed transition straight to terminated: only a finished offboarding gets there', () => {
    for (const [state, action] of cells) {
      if (action === 'forceComplete' || ORDINARY[state][action] !== ALLOWED) continue;
      for (const remembered of ['active', 'suspended'] as const) expect(lifecycleTarget(action, state, remembered)).not.toBe('terminated');
    }
  });
});

describe('lifecycle rules: retention bounds', () => {
  it.each([undefined, 1, 30, MAX_RETENTION_DAYS])('accepts a retention of %p days (undefined: the default applies)', (days) => {
    expect(retentionProblem(days)).toBeUndefined();
  });

  it.each([0, -1, MAX_RETENTION_DAYS + 1, 5000, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '30', null, {}])('refuses a retention of %p days', (days) => {
    expect(retentionProblem(days)).toBe(`retentionDays must be a whole number from 1 to ${MAX_RETENTION_DAYS}`);
  });
});

describe('lifecycle rules: onboarding only moves forward', () => {
  const rank = (state: OnboardingState) => ONBOARDING_STATES.indexOf(state);
  /** The milestones a state stands for: onboarding is a function of which milestones have happened, not their order. */
  const reached: Record<OnboardingState, OnboardingMilestone[]> = {
    provisioned: [],
    first_api_key: ['api_key_created'],
    first_run: ['run_completed'],
    complete: ['api_key_created', 'run_completed'],
  };
  const milestone = fc.constantFrom<OnboardingMilestone>('api_key_created', 'run_completed');

  it.each([
    ['provisioned', 'api_key_created', 'first_api_key'],
    ['provisioned', 'run_completed', 'first_run'],
    ['first_api_key', 'run_completed', 'complete'],
    ['first_run', 'api_key_created', 'complete'],
    ['first_api_key', 'api_key_created', undefined],
    ['first_run', 'run_completed', undefined],
    ['complete', 'api_key_created', undefined],
    ['complete', 'run_completed', undefined],
    [null, 'api_key_created', undefined],
    [undefined, 'run_completed', undefined],
  ] as const)('from %p, %s leads to %p', (current, event, next) => {
    expect(nextOnboardingState(current, event)).toBe(next);
  });

  it('never moves backward over any sequence of milestones, and both milestones make it complete', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ONBOARDING_STATES), fc.array(milestone, { maxLength: 20 }), (start, milestones) => {
        let state: OnboardingState = start;
        for (const event of milestones) {
          const next = nextOnboardingState(state, event);
          // A milestone either moves onboarding strictly forward or changes nothing (undefined, never the same state).
          if (next !== undefined) {
            expect(rank(next)).toBeGreaterThan(rank(state));
            state = next;
          }
        }
        const seen = new Set([...reached[start], ...milestones]);
        const expected = (Object.keys(reached) as OnboardingState[]).find((candidate) => reached[candidate].length === seen.size && reached[candidate].every((event) => seen.has(event)));
        expect(state).toBe(expected);
        if (seen.has('api_key_created') && seen.has('run_completed')) expect(state).toBe('complete');
      }),
    );
  });

  it('leaves a tenant without onboarding (not yet provisioned) alone, whatever happens', () => {
    fc.assert(
      fc.property(fc.constantFrom(null, undefined), fc.array(milestone, { maxLength: 10 }), (current, milestones) => {
        for (const event of milestones) expect(nextOnboardingState(current, event)).toBeUndefined();
      }),
    );
  });
});
