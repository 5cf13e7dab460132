import { isStorableText, jsonFault, storableJson, storableText } from '../../src/domain/storable-text';
import { runPlanSchema } from '../../src/domain/step-kinds';

describe('what Postgres text and jsonb can store', () => {
  it('refuses NUL and unpaired surrogates, and accepts paired ones', () => {
    expect(isStorableText('plain, ünïcödé, 😀')).toBe(true);
    expect(isStorableText('a\u0000b')).toBe(false);
    expect(isStorableText('high \uD83D alone')).toBe(false);
    expect(isStorableText('low \uDE00 alone')).toBe(false);
    expect(isStorableText('end \uD83D')).toBe(false);
  });

  it('makes text storable and cuts it without splitting a surrogate pair', () => {
    expect(storableText('a\u0000b\uD800c', 100)).toBe('a\uFFFDb\uFFFDc');
    expect(storableText('ab😀', 3)).toBe('ab');
    expect(isStorableText(storableText('x'.repeat(10) + '\uDE00'.repeat(5), 12))).toBe(true);
  });

  it('copies any value into one Postgres accepts, keys included, with nesting cut', () => {
    let deep: unknown = 'bottom';
    for (let level = 0; level < 100; level += 1) deep = { next: deep };
    const copy = JSON.stringify(storableJson({ 'k\u0000': ['v\uD800', Number.NaN, 2n, new Date(0)], deep }));
    expect(copy).not.toMatch(/\\u0000|\\ud800/i);
    expect(copy).toContain('[nested too deep]');
    expect(copy).toContain('"1970-01-01T00:00:00.000Z"');
  });

  it('finds the first fault in free-form JSON without recursing, however deep', () => {
    let deep: unknown = 1;
    for (let level = 0; level < 200_000; level += 1) deep = [deep];
    expect(jsonFault(deep, { maxDepth: 32, maxBytes: 8192 })).toEqual({ path: Array(32).fill(0), message: 'must be nested at most 32 levels deep' });
    expect(jsonFault({ a: [{ 'b\u0000': 1 }] }, { maxDepth: 32, maxBytes: 8192 })).toMatchObject({ path: ['a', 0, 'b\u0000'] });
    expect(jsonFault({ a: 'x'.repeat(9000) }, { maxDepth: 32, maxBytes: 8192 })).toMatchObject({ path: [], message: 'must serialise to at most 8192 bytes' });
    expect(jsonFault({ a: [1, 'two', null, true, { b: {} }] }, { maxDepth: 32, maxBytes: 8192 })).toBeUndefined();
  });

  it('refuses a run plan with a 10,000-level record value as a validation issue, not a crash', () => {
    let deep: unknown = 1;
    for (let level = 0; level < 10_000; level += 1) deep = { d: deep };
    const parsed = runPlanSchema.safeParse({ steps: [{ kind: 'records.write', key: 'k', value: deep }] });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toBe('must be nested at most 32 levels deep');
  });
});
