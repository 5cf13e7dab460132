/**
 * The backstop: whatever a handler waits on, the client has an answer at the deadline (503, Retry-After, type
 * naming the `timeout` class), and the handler's own late answer is dropped without harming the process.
 */
import express from 'express';
import request from 'supertest';
import { errorHandler } from '../../src/api/error-handler';
import { dependencyProblemType } from '../../src/api/dependency-problem';
import { requestDeadline } from '../../src/api/request-deadline';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import { waitFor } from '../support/wait';

const DEADLINE_MS = 300;

function appWithSlowRoute() {
  const metrics = createMetrics();
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  const late: Array<'answered' | 'failed'> = [];
  const app = express();
  app.use(requestDeadline({ deadlineMs: DEADLINE_MS, onTimeout: () => metrics.dependencyUnavailable.inc({ dependency: 'timeout' }) }));
  app.get('/slow', async (_request, response) => {
    await released;
    try {
      response.status(200).location('/slow').json({ late: true });
      late.push('answered');
    } catch (error) {
      late.push('failed');
      throw error;
    }
  });
  app.get('/slow-write', async (_request, response) => {
    await released;
    response.write('late bytes');
    response.end();
    late.push('answered');
  });
  app.get('/fast', (_request, response) => {
    response.json({ ok: true });
  });
  app.use(errorHandler(createLogger('silent'), metrics));
  return { app, metrics, release, late };
}

describe('request deadline backstop', () => {
  it('answers 503 problem+json with Retry-After and the timeout class when the handler has not answered by the deadline', async () => {
    const { app, metrics, release } = appWithSlowRoute();
    const startedAt = Date.now();
    const response = await request(app).get('/slow');
    const took = Date.now() - startedAt;
    release();
    expect(response.status).toBe(503);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(response.headers['retry-after']).toMatch(/^\d+$/);
    expect(response.body).toMatchObject({ type: dependencyProblemType('timeout'), status: 503, dependency: 'timeout', retryAfterSeconds: Number(response.headers['retry-after']) });
    expect(took).toBeGreaterThanOrEqual(DEADLINE_MS - 20);
    expect(took).toBeLessThan(DEADLINE_MS + 1000);
    expect(await metrics.registry.getSingleMetricAsString('http_dependency_unavailable_total')).toContain('http_dependency_unavailable_total{dependency="timeout"} 1');
  });

  it("drops the late handler's answer (a JSON body or raw writes) without an uncaught error, and the app goes on serving", async () => {
    const { app, release, late } = appWithSlowRoute();
    const server = app.listen(0);
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const [json, raw] = await Promise.all([request(server).get('/slow'), request(server).get('/slow-write')]);
      expect([json.status, raw.status]).toEqual([503, 503]);
      release();
      await waitFor(() => late.length === 2);
      expect(late).toContain('failed');
      expect(uncaught).toEqual([]);
      const next = await request(server).get('/fast');
      expect(next.status).toBe(200);
    } finally {
      process.off('uncaughtException', onUncaught);
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('leaves an answer given in time alone', async () => {
    const { app, metrics } = appWithSlowRoute();
    const response = await request(app).get('/fast');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ ok: true });
    expect(await metrics.registry.getSingleMetricAsString('http_dependency_unavailable_total')).not.toContain('dependency="timeout"');
  });
});
