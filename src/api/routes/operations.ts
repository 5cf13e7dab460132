import { Router } from 'express';
import type { Metrics } from '../../observability/metrics';
import type { RouteDeclarer } from '../auth/route';

/**
 * GET /metrics: this process's registry (what its API and its workflows counted) followed by the Temporal SDK's
 * worker metrics when it runs a worker. Every process serves its own; Prometheus scrapes each (docs/operations.md).
 */
export function metricsRoutes(deps: { metrics: Metrics; extraMetrics?: () => Promise<string> }, route: RouteDeclarer): Router {
  const router = Router();
  route(router, {
    method: 'get',
    path: '/metrics',
    auth: 'public',
    docs: { summary: "Prometheus metrics of this process: the service's own and its Temporal worker's; aggregate labels only", tags: ['operations'] },
    handler: async (_request, response) => {
      const [own, extra] = await Promise.all([deps.metrics.registry.metrics(), deps.extraMetrics?.() ?? Promise.resolve('')]);
      response.type(deps.metrics.registry.contentType).send(extra ? `${own}\n${extra}` : own);
    },
  });
  return router;
}
