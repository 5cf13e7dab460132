import { isDatabaseUnavailable } from '../db/database-errors';
import { isTemporalUnavailable } from '../temporal/temporal-errors';
import { Problem, problemType } from './problem';

/**
 * Which dependency an outage answer names: the class, never the host. `timeout` is the backstop's: the request ran
 * past its deadline without any one dependency having failed (a chain of slow answers).
 */
export type DependencyClass = 'temporal' | 'database' | 'timeout';

/**
 * Seconds a client should wait before retrying. Short, because most outages clients meet are a restart or a failover;
 * a client that keeps getting 503 backs off on its own (the runbook says so).
 */
export const DEPENDENCY_RETRY_AFTER_SECONDS = 5;

const DETAIL: Record<DependencyClass, string> = {
  temporal: 'The workflow service is unreachable or did not answer in time. Retry the same request after Retry-After seconds.',
  database: 'The database is unreachable or did not answer in time. Retry the same request after Retry-After seconds.',
  timeout: 'The request was not answered within its deadline. Retry the same request after Retry-After seconds.',
};

export const dependencyProblemType = (dependency: DependencyClass) => `${problemType('Dependency unavailable')}/${dependency}`;

/** The dependency an error says is down, or undefined when it is any other error. */
export function dependencyClassOf(error: unknown): Exclude<DependencyClass, 'timeout'> | undefined {
  if (isTemporalUnavailable(error)) return 'temporal';
  if (isDatabaseUnavailable(error)) return 'database';
  return undefined;
}

/** 503 with Retry-After: the client did nothing wrong and the same request can succeed later. */
export function dependencyUnavailable(dependency: DependencyClass): Problem {
  const problem = new Problem(
    503,
    'Dependency unavailable',
    DETAIL[dependency],
    { dependency, retryAfterSeconds: DEPENDENCY_RETRY_AFTER_SECONDS },
    { 'Retry-After': String(DEPENDENCY_RETRY_AFTER_SECONDS) },
  );
  problem.typeUri = dependencyProblemType(dependency);
  return problem;
}
