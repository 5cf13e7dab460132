import { checkAll, runCeilings, type RunCeilings, type RunCounts } from '../../src/gates/protection-gate';
import { Limits } from '../../src/domain/limits';

const ceilings: RunCeilings = { burstPerMinute: 10, runsPerDay: 100, concurrentRuns: 3 };
const counts = (overrides: Partial<RunCounts> = {}): RunCounts => ({ startedLastMinute: 0, startedLastDay: 0, inFlight: 0, ...overrides });

describe('protection gate checkAll', () => {
  it('allows a run under every ceiling', () => {
    expect(checkAll({ counts: counts({ startedLastMinute: 9, startedLastDay: 99, inFlight: 2 }), ceilings })).toEqual({ allowed: true, gate: 'protection', outcome: 'allow', reason: 'allowed' });
  });

  it.each([
    ['the concurrency ceiling', { inFlight: 3 }, 'concurrent run limit of 3 reached', 5],
    ['the burst ceiling', { startedLastMinute: 10 }, 'burst limit of 10 runs per minute reached', 60],
    ['the daily ceiling', { startedLastDay: 100 }, 'daily run limit of 100 reached', 3600],
  ] as const)('throttles at %s with a Retry-After hint', (_name, overrides, reason, retryAfterSeconds) => {
    expect(checkAll({ counts: counts(overrides), ceilings })).toEqual({ allowed: false, gate: 'protection', outcome: 'throttle', reason, retryAfterSeconds });
  });

  it('names the ceiling that clears soonest when several are reached', () => {
    expect(checkAll({ counts: counts({ inFlight: 5, startedLastMinute: 50, startedLastDay: 500 }), ceilings }).reason).toMatch(/concurrent/);
    expect(checkAll({ counts: counts({ startedLastMinute: 50, startedLastDay: 500 }), ceilings }).reason).toMatch(/burst/);
  });

  it('blocks, not throttles, when a ceiling is zero: waiting cannot help', () => {
    expect(checkAll({ counts: counts(), ceilings: { ...ceilings, concurrentRuns: 0 } })).toMatchObject({ allowed: false, outcome: 'block' });
    expect(checkAll({ counts: counts(), ceilings: { ...ceilings, runsPerDay: 0 } })).toMatchObject({ allowed: false, outcome: 'block' });
  });

  it('holds a tenant to the tighter of its plan and the platform', () => {
    const platform = { burstPerMinute: 30, runsPerDay: 500, concurrentRuns: 50 };
    expect(runCeilings(Limits.derive('enterprise', 'active'), platform)).toEqual({ burstPerMinute: 30, runsPerDay: 500, concurrentRuns: 50 });
    expect(runCeilings(Limits.derive('trial', 'trial'), platform)).toEqual({ burstPerMinute: 30, runsPerDay: 100, concurrentRuns: 2 });
  });
});
