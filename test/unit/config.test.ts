import { ConfigError, loadConfig } from '../../src/config';

describe('loadConfig', () => {
  it('applies defaults to an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ API_PORT: 3000, TEMPORAL_NAMESPACE: 'default', HOSTED_MODE: false, SIGNUP_RATE_LIMIT_PER_HOUR: 5, PROCESS_ROLES: ['api', 'worker'] });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.TEMPORAL_ADDRESS).toBeUndefined();
  });

  it.each([
    ['API_PORT', 'eighty', 'API_PORT'],
    ['HOSTED_MODE', 'maybe', 'HOSTED_MODE'],
    ['DATABASE_URL', 'mysql://db/x', 'DATABASE_URL'],
    ['PROCESS_ROLES', 'api,cron', 'PROCESS_ROLES'],
    ['SIGNUP_RATE_LIMIT_PER_HOUR', '0', 'SIGNUP_RATE_LIMIT_PER_HOUR'],
  ])('stops on a bad %s and names the variable', (name, value, expected) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^Invalid configuration:\\n  - ${expected}`));
  });

  it('accepts a managed Postgres and a Temporal Cloud endpoint with an API key', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgresql://app:secret@db.internal:5432/control',
      TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'ns.acct',
      TEMPORAL_API_KEY: 'key',
    });
    expect(config).toMatchObject({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'ns.acct', TEMPORAL_API_KEY: 'key' });
  });

  it('bounds every request at 10 s and each Postgres wait at 3 s by default, and refuses a statement bound no shorter than the request deadline', () => {
    expect(loadConfig({})).toMatchObject({ REQUEST_DEADLINE_SECONDS: 10, DATABASE_QUERY_TIMEOUT_SECONDS: 3 });
    expect(loadConfig({ REQUEST_DEADLINE_SECONDS: '30', DATABASE_QUERY_TIMEOUT_SECONDS: '10' })).toMatchObject({ REQUEST_DEADLINE_SECONDS: 30, DATABASE_QUERY_TIMEOUT_SECONDS: 10 });
    expect(() => loadConfig({ REQUEST_DEADLINE_SECONDS: '5', DATABASE_QUERY_TIMEOUT_SECONDS: '5' })).toThrow(/DATABASE_QUERY_TIMEOUT_SECONDS: must be shorter than REQUEST_DEADLINE_SECONDS/);
    expect(() => loadConfig({ REQUEST_DEADLINE_SECONDS: '1' })).toThrow(/REQUEST_DEADLINE_SECONDS/);
  });

  it('requires a TLS client certificate and key together', () => {
    expect(() => loadConfig({ TEMPORAL_TLS_CERT_PATH: '/certs/client.pem' })).toThrow(/TEMPORAL_TLS_KEY_PATH/);
  });
});
