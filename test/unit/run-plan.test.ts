import { runPlanSchema, PLAN_MAX_STEPS } from '../../src/domain/step-kinds';
import { durationMs } from '../../src/domain/duration';

const issues = (plan: unknown) => {
  const parsed = runPlanSchema.safeParse(plan);
  return parsed.success ? [] : parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
};

describe('run plan schema', () => {
  it('accepts one step of every kind', () => {
    expect(
      issues({
        description: 'all kinds',
        steps: [
          { kind: 'records.write', key: 'a/b:c', value: { nested: [1, null, 'x'] } },
          { kind: 'records.delete', key: 'a' },
          { kind: 'credits.debit', amount: 5, reason: 'usage' },
          { kind: 'credits.refund', amount: 5 },
          { kind: 'wait', duration: '15m' },
          { kind: 'approval', reason: 'check', timeout: '2h' },
        ],
      }),
    ).toEqual([]);
  });

  it('names the field of an unknown kind, a bad argument, an unknown field and too many steps', () => {
    expect(issues({ steps: [{ kind: 'records.write', key: 'a', value: 1 }, { kind: 'shell.exec' }] })).toEqual([
      { path: 'steps.1.kind', message: expect.stringContaining('must be one of: records.write') },
    ]);
    expect(issues({ steps: [{ kind: 'credits.debit', amount: 0 }] })).toEqual([{ path: 'steps.0.amount', message: expect.any(String) }]);
    expect(issues({ steps: [{ kind: 'credits.debit', amount: 1.5 }] })[0]?.path).toBe('steps.0.amount');
    expect(issues({ steps: [{ kind: 'wait', duration: '1.5h' }] })).toEqual([{ path: 'steps.0.duration', message: expect.stringContaining('whole number and a unit') }]);
    expect(issues({ steps: [{ kind: 'wait', duration: '8d' }] })).toEqual([{ path: 'steps.0.duration', message: 'must be at most 7 days' }]);
    expect(issues({ steps: [{ kind: 'records.delete', key: 'a', force: true }] })[0]?.path).toBe('steps.0');
    expect(issues({ steps: [{ kind: 'records.write', key: 'bad key!', value: 1 }] })[0]?.path).toBe('steps.0.key');
    expect(issues({ steps: Array.from({ length: PLAN_MAX_STEPS + 1 }, () => ({ kind: 'credits.debit', amount: 1 })) })).toEqual([
      { path: 'steps', message: `must hold at most ${PLAN_MAX_STEPS} steps` },
    ]);
    expect(issues({ steps: [] })).toEqual([{ path: 'steps', message: 'must hold at least one step' }]);
  });

  it('reads durations in whole units only', () => {
    expect(durationMs('30s')).toBe(30_000);
    expect(durationMs('2h')).toBe(7_200_000);
    expect(() => durationMs('2 hours')).toThrow(RangeError);
  });
});
