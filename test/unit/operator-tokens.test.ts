import { createOperatorRegistry } from '../../src/auth/operator-tokens';
import { ConfigError, loadConfig } from '../../src/config';

const token = (seed: string) => `${seed}-${'x'.repeat(40)}`;
const parse = (value: string | undefined) => loadConfig(value === undefined ? {} : { OPERATOR_TOKENS: value }).OPERATOR_TOKENS;

describe('OPERATOR_TOKENS', () => {
  it('is empty when unset: no operator can sign in', () => {
    expect(parse(undefined)).toEqual([]);
    expect(parse('  ')).toEqual([]);
  });

  it('parses name:role:token entries, tokens may contain colons', () => {
    expect(parse(`ada:founder:${token('a')}, grace:ops:${token('b:c')}`)).toEqual([
      { name: 'ada', role: 'founder', token: token('a') },
      { name: 'grace', role: 'ops', token: token('b:c') },
    ]);
  });

  it('parses a JSON array', () => {
    expect(parse(JSON.stringify([{ name: 'ada', role: 'ops', token: token('a') }]))).toEqual([{ name: 'ada', role: 'ops', token: token('a') }]);
  });

  it.each([
    ['an unknown role', `ada:owner:${token('a')}`],
    ['a short token', 'ada:founder:short'],
    ['a missing token', 'ada:founder'],
    ['a duplicate name', `ada:founder:${token('a')},ada:ops:${token('b')}`],
    ['a duplicate token', `ada:founder:${token('a')},bob:ops:${token('a')}`],
    ['a token shaped like an API key', `ada:ops:cp_live_${'x'.repeat(40)}`],
    ['broken JSON', '[{"name":'],
    ['an unknown JSON field', JSON.stringify([{ name: 'ada', role: 'ops', token: token('a'), admin: true }])],
  ])('refuses %s at start, without echoing the token', (_name, value) => {
    let error: unknown;
    try {
      parse(value);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('OPERATOR_TOKENS');
    expect((error as Error).message).not.toContain('x'.repeat(40));
  });
});

describe('operator registry', () => {
  const registry = createOperatorRegistry([
    { name: 'ada', role: 'founder', token: token('a') },
    { name: 'grace', role: 'ops', token: token('b') },
  ]);

  it('identifies an operator by token, and nobody by a near miss', () => {
    expect(registry.identify(token('b'))).toEqual({ name: 'grace', role: 'ops' });
    expect(registry.identify(`${token('b')}x`)).toBeUndefined();
    expect(registry.identify('')).toBeUndefined();
  });
});

describe('AUTH_TOKEN_SECRET', () => {
  it('is required in production and must be 32 characters or more (its strength in production: production-posture.test.ts)', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/AUTH_TOKEN_SECRET/);
    expect(() => loadConfig({ AUTH_TOKEN_SECRET: 'short' })).toThrow(/AUTH_TOKEN_SECRET/);
    expect(loadConfig({ AUTH_TOKEN_SECRET: 's'.repeat(32) }).AUTH_TOKEN_SECRET).toBe('s'.repeat(32));
  });

  it('kill switches default off, the global ceiling on', () => {
    expect(loadConfig({})).toMatchObject({ DISABLE_SIGNUP: false, DISABLE_RUN_EXECUTION: false, READ_ONLY_MODE: false, GLOBAL_RATE_LIMIT_PER_MINUTE: 6000 });
    expect(() => loadConfig({ READ_ONLY_MODE: 'maybe' })).toThrow(/READ_ONLY_MODE/);
  });
});
