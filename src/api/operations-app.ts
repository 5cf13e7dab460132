import express, { type Express } from 'express';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { createRouteDeclarer } from './auth/route';
import { errorHandler, notFoundHandler } from './error-handler';
import { requestDeadline } from './request-deadline';
import { healthRoutes, type ReadinessCheck } from './routes/health';
import { metricsRoutes } from './routes/operations';

/**
 * The HTTP face of a worker-only process: /healthz, /readyz (its own Postgres, Temporal and worker) and /metrics
 * (the workflow-side counters it made), on its own port. It has no API routes, so no route here is tenant-scoped.
 */
export function buildOperationsApp(deps: {
  metrics: Metrics;
  readiness: Record<string, ReadinessCheck>;
  extraMetrics?: () => Promise<string>;
  logger: Logger;
  requestDeadlineSeconds?: number;
}): Express {
  const app = express();
  app.disable('x-powered-by');
  // The same outage rule as the API's: /metrics reads Postgres for its gauges.
  app.use(requestDeadline({ deadlineMs: (deps.requestDeadlineSeconds ?? 10) * 1000, onTimeout: () => deps.metrics.dependencyUnavailable.inc({ dependency: 'timeout' }) }));
  const route = createRouteDeclarer(() => {
    throw new Error('the operations app declares no tenant routes');
  });
  app.use(healthRoutes(deps.readiness, route));
  app.use(metricsRoutes(deps, route));
  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger, deps.metrics));
  return app;
}
