import { randomBytes } from 'node:crypto';
import { ConfigError, inspectConfig, loadConfig } from '../../src/config';
import { secretWeaknesses } from '../../src/domain/secret-strength';

const NODE_24 = 'v24.22.3';
const SECRET = 'Qm2ZpL8vRt4Wn7YbHc1FsDg6Ae0Uo5IiK3J9xTq';
const FOUNDER_TOKEN = 'f7Gh2Kp9Lm4Qr8Tv1Wx6Yz3Bc5Dn0Ej2Ha7Su';

/** What a real deployment sets: its own servers, the https URL users reach, random secrets, a chosen signup limit. */
const PRODUCTION = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgresql://app:pw@db.internal:5432/control',
  TEMPORAL_ADDRESS: 'temporal.internal:7233',
  SMTP_URL: 'smtps://mailer:pw@smtp.internal:465',
  PUBLIC_BASE_URL: 'https://api.acme.io',
  AUTH_TOKEN_SECRET: SECRET,
  OPERATOR_TOKENS: `ada:founder:${FOUNDER_TOKEN}`,
  HOSTED_MODE: 'true',
  SIGNUP_RATE_LIMIT_PER_HOUR: '20',
};

/** The one message start prints when it refuses; undefined when it would start. */
function refusal(environment: Record<string, string | undefined>, nodeVersion = NODE_24): string | undefined {
  try {
    loadConfig(environment, nodeVersion);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
}

describe('NODE_ENV=production', () => {
  it('starts on an environment that names its servers, an https base URL, strong secrets and a chosen signup limit', () => {
    expect(refusal(PRODUCTION)).toBeUndefined();
  });

  it('refuses a bare environment with one message that names every missing part', () => {
    const message = refusal({ NODE_ENV: 'production' })!;
    expect(message).toMatch(/^NODE_ENV=production refuses to start:\n/);
    const named = message.split('\n').slice(1).map((line) => /^ {2}- (\w+):/.exec(line)?.[1]);
    expect(named).toEqual(['DATABASE_URL', 'TEMPORAL_ADDRESS', 'SMTP_URL', 'PUBLIC_BASE_URL', 'AUTH_TOKEN_SECRET']);
  });

  it.each([
    ['an http: PUBLIC_BASE_URL', { PUBLIC_BASE_URL: 'http://api.acme.io' }, /PUBLIC_BASE_URL: is http: .* must be https:/],
    ['a PUBLIC_BASE_URL on loopback', { PUBLIC_BASE_URL: 'https://localhost:3000' }, /PUBLIC_BASE_URL: names localhost/],
    ['an http: APP_BASE_URL, where mail links point', { APP_BASE_URL: 'http://app.acme.io' }, /APP_BASE_URL: is http:/],
    ['an AUTH_TOKEN_SECRET of one repeated character', { AUTH_TOKEN_SECRET: 'a'.repeat(48) }, /AUTH_TOKEN_SECRET: has 1 distinct characters/],
    ['an AUTH_TOKEN_SECRET of a short repeated pattern', { AUTH_TOKEN_SECRET: '2026-12-06'.repeat(4) }, /AUTH_TOKEN_SECRET: has 5 distinct characters/],
    ['an AUTH_TOKEN_SECRET copied from an example', { AUTH_TOKEN_SECRET: 'please-change-me-to-a-long-random-value!' }, /AUTH_TOKEN_SECRET: contains the placeholder word "change-me"/],
    ['an AUTH_TOKEN_SECRET shorter than 32 characters', { AUTH_TOKEN_SECRET: SECRET.slice(0, 31) }, /AUTH_TOKEN_SECRET: must be at least 32 characters/],
    ['a weak operator token', { OPERATOR_TOKENS: `ada:founder:${'x'.repeat(40)}` }, /OPERATOR_TOKENS: the token of ada has 1 distinct characters/],
    ['an operator token shorter than 32 characters', { OPERATOR_TOKENS: `ada:founder:${FOUNDER_TOKEN.slice(0, 31)}` }, /OPERATOR_TOKENS\.0\.token: must be at least 32 characters/],
    ['hosted mode on the default signup limit', { SIGNUP_RATE_LIMIT_PER_HOUR: undefined }, /SIGNUP_RATE_LIMIT_PER_HOUR: is not set while HOSTED_MODE serves public signup/],
  ])('refuses %s', (_name, change, expected) => {
    const message = refusal({ ...PRODUCTION, ...change });
    expect(message).toMatch(/^NODE_ENV=production refuses to start:\n/);
    expect(message).toMatch(expected);
    // Only the changed variable is at fault.
    expect(message!.split('\n')).toHaveLength(2);
  });

  it('refuses to run on a Node.js other than the supported LTS', () => {
    expect(refusal(PRODUCTION, 'v20.20.2')).toMatch(/node: Node.js v20.20.2 is not the supported runtime \(Node 24 LTS/);
  });

  it('needs no signup limit of its own when hosted mode is off or signup is switched off', () => {
    expect(refusal({ ...PRODUCTION, SIGNUP_RATE_LIMIT_PER_HOUR: undefined, HOSTED_MODE: 'false' })).toBeUndefined();
    expect(refusal({ ...PRODUCTION, SIGNUP_RATE_LIMIT_PER_HOUR: undefined, DISABLE_SIGNUP: 'true' })).toBeUndefined();
  });

  it('lists a malformed variable and every production problem in the same message, each variable once', () => {
    const message = refusal({ NODE_ENV: 'production', API_PORT: 'eighty', PUBLIC_BASE_URL: 'ftp://api.acme.io', SMTP_URL: 'smtp://mail.internal:587' })!;
    const named = message.split('\n').slice(1).map((line) => /^ {2}- (\w+):/.exec(line)?.[1]);
    expect(named).toEqual(['API_PORT', 'PUBLIC_BASE_URL', 'DATABASE_URL', 'TEMPORAL_ADDRESS', 'AUTH_TOKEN_SECRET']);
  });

  it('never repeats a secret in its message', () => {
    const weakSecret = `password-${'z'.repeat(30)}`;
    const weakToken = 'q'.repeat(40);
    const message = refusal({ ...PRODUCTION, AUTH_TOKEN_SECRET: weakSecret, OPERATOR_TOKENS: `ada:founder:${weakToken}` })!;
    expect(message).toMatch(/AUTH_TOKEN_SECRET/);
    expect(message).toMatch(/OPERATOR_TOKENS/);
    expect(message).not.toContain(weakSecret);
    expect(message).not.toContain(weakToken);
  });
});

describe('the configuration report (npm run doctor)', () => {
  it('outside production starts as before, and still says what production would refuse', () => {
    expect(() => loadConfig({}, NODE_24)).not.toThrow();
    const report = inspectConfig({ NODE_ENV: 'development' }, NODE_24);
    expect(report).toMatchObject({ nodeEnv: 'development', invalid: [] });
    expect(report.production.map((problem) => problem.split(':')[0])).toEqual(['DATABASE_URL', 'TEMPORAL_ADDRESS', 'SMTP_URL', 'PUBLIC_BASE_URL', 'AUTH_TOKEN_SECRET']);
  });

  it('is clean for a production-ready environment', () => {
    expect(inspectConfig(PRODUCTION, NODE_24)).toMatchObject({ nodeEnv: 'production', invalid: [], production: [] });
  });
});

describe('secretWeaknesses', () => {
  it('passes what a generator makes: 32 random bytes in hex or base64', () => {
    for (let draw = 0; draw < 200; draw += 1) {
      const bytes = randomBytes(32);
      expect(secretWeaknesses(bytes.toString('hex'))).toEqual([]);
      expect(secretWeaknesses(bytes.toString('base64url'))).toEqual([]);
    }
  });

  it('gives every reason at once', () => {
    expect(secretWeaknesses('secret')).toEqual([
      'is shorter than 32 characters',
      'has 5 distinct characters, fewer than 10: not a random value',
      'contains the placeholder word "secret"',
    ]);
  });
});
