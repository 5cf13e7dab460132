import { Router } from 'express';
import type { RouteDeclarer } from '../auth/route';
import { DEPENDENCY_RETRY_AFTER_SECONDS } from '../dependency-problem';

/** A readiness probe: resolves when its part works, rejects (or times out) when it does not. */
export type ReadinessCheck = () => Promise<void>;

const CHECK_TIMEOUT_MS = 2000;

function withTimeout(check: ReadinessCheck): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
    check().then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

export function healthRoutes(checks: Record<string, ReadinessCheck>, route: RouteDeclarer): Router {
  const router = Router();
  route(router, {
    method: 'get',
    path: '/healthz',
    auth: 'public',
    docs: { summary: 'The process is up', tags: ['health'] },
    handler: (_request, response) => {
      response.json({ status: 'ok' });
    },
  });
  route(router, {
    method: 'get',
    path: '/readyz',
    auth: 'public',
    docs: { summary: 'Postgres, Temporal and a live worker (its heartbeat within 30 s) all answer; 503 problem+json naming what fails', tags: ['health'] },
    handler: async (_request, response) => {
      const names = Object.keys(checks);
      const results = await Promise.allSettled(names.map((name) => withTimeout(checks[name]!)));
      const parts = Object.fromEntries(
        names.map((name, index) => {
          const result = results[index]!;
          return [name, result.status === 'fulfilled' ? 'ok' : `failing: ${(result.reason as Error)?.message ?? 'unknown'}`];
        }),
      );
      const failing = names.filter((_name, index) => results[index]!.status === 'rejected');
      if (failing.length === 0) {
        response.json({ status: 'ready', checks: parts });
        return;
      }
      response
        .status(503)
        .set('Retry-After', String(DEPENDENCY_RETRY_AFTER_SECONDS))
        .type('application/problem+json')
        .json({
          type: 'https://control-plane.dev/problems/not-ready',
          title: 'Not ready',
          status: 503,
          detail: `Failing: ${failing.join(', ')}`,
          failing,
          checks: parts,
        });
    },
  });
  return router;
}
