import request from 'supertest';
import { createAccessControl } from '../../src/access-control';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import { startApiHarness, type ApiHarness } from '../support/api';
import { testConfig, uniqueSlug, uniqueTaskQueue } from '../support/stack';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApiHarness();
});
afterAll(() => api.close());

/**
 * An "API process" of one deployment: its own app and access control, sharing only the database, as N processes
 * behind a load balancer do. `scope` is what the processes of one deployment share (the task queue in production).
 */
function apiProcess(scope: string, env: Record<string, string>) {
  const config = testConfig({ TEMPORAL_TASK_QUEUE: api.taskQueue, HOSTED_MODE: 'true', ...env });
  const access = createAccessControl({ config, orm: api.orm, logger: createLogger('silent'), metrics: createMetrics(), rateLimitScope: scope });
  return api.build(env, { access });
}

const signupBody = () => {
  const slug = uniqueSlug('limit');
  return { email: `owner-${slug}@example.com`, password: 'Correct-horse-battery-42', orgName: slug.replace(/-/g, ' ') };
};

describe('rate limits shared by every API process', () => {
  it('refuses the 6th signup from one address within the hour whichever process it reaches, and after a restart', async () => {
    const scope = uniqueTaskQueue('deployment');
    const env = { SIGNUP_RATE_LIMIT_PER_HOUR: '5' };
    const [first, second] = [apiProcess(scope, env), apiProcess(scope, env)];
    const statuses: number[] = [];
    for (const app of [first, second, first, second, first]) statuses.push((await request(app).post('/api/v1/signup').send(signupBody())).status);
    expect(statuses).toEqual([202, 202, 202, 202, 202]);

    const sixth = await request(second).post('/api/v1/signup').send(signupBody());
    expect(sixth.status).toBe(429);
    expect(Number(sixth.headers['retry-after'])).toBeGreaterThan(0);
    expect(sixth.headers['ratelimit']).toBeDefined();

    // A process started afresh counts what the others counted: the counters are in Postgres, not in memory.
    const restarted = apiProcess(scope, env);
    expect((await request(restarted).post('/api/v1/signup').send(signupBody())).status).toBe(429);
    // Another deployment on the same database counts its own.
    expect((await request(apiProcess(uniqueTaskQueue('other-deployment'), env)).post('/api/v1/signup').send(signupBody())).status).toBe(202);
  });

  it('counts failed logins per address across processes', async () => {
    const scope = uniqueTaskQueue('deployment');
    const env = { LOGIN_FAILURES_PER_IP: '3', LOGIN_FAILURES_PER_ACCOUNT: '1000', LOGIN_FAILURES_PER_CLIENT_ACCOUNT: '1000' };
    const [first, second] = [apiProcess(scope, env), apiProcess(scope, env)];
    const statuses: number[] = [];
    for (const [attempt, app] of [first, second, first, second].entries()) {
      statuses.push((await request(app).post('/api/v1/auth/login').send({ email: `nobody-${attempt}-${scope}@example.com`, password: 'Wrong-Password-123' })).status);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
  });
});
