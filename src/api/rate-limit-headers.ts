import type { RequestPolicyName } from '../domain/request-budget';

/** Where a caller stands in one policy after this request. */
export interface PolicyStanding {
  policy: RequestPolicyName;
  quota: number;
  windowSeconds: number;
  remaining: number;
  /** Seconds until the window ends and the quota is whole again. */
  resetSeconds: number;
}

/**
 * draft-ietf-httpapi-ratelimit-headers (draft 8 onwards) as structured-field lists, one item per policy:
 * `RateLimit-Policy: "tenant";q=600;w=60` and `RateLimit: "tenant";r=0;t=12`. It is the format express-rate-limit's
 * `standardHeaders: 'draft-8'` writes (its writer is not exported, and one statement counts two policies here); the
 * partition key (`pk`) is left out because it would only echo our bucket names back to the client.
 */
export function rateLimitHeaders(standings: readonly PolicyStanding[]): Record<'RateLimit-Policy' | 'RateLimit', string> {
  return {
    'RateLimit-Policy': standings.map((standing) => `"${standing.policy}";q=${standing.quota};w=${standing.windowSeconds}`).join(', '),
    RateLimit: standings.map((standing) => `"${standing.policy}";r=${Math.max(0, standing.remaining)};t=${Math.max(0, standing.resetSeconds)}`).join(', '),
  };
}
