/**
 * A Temporal server whose store stalls answers a workflow start CANCELLED just before the caller's deadline (seen in
 * the Postgres freeze drill, test/topology/outage-drills.test.ts, as a 500): it is an outage, answered 503 temporal.
 */
import { ServiceError } from '@temporalio/client';
import { dependencyClassOf } from '../../src/api/dependency-problem';

const grpcStatus = (code: number, details: string) => Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });

describe('a Temporal call the server cancelled', () => {
  it('is classified as temporal, bare or inside the SDK wrapper', () => {
    const cancelled = grpcStatus(1, 'Call cancelled');
    expect(dependencyClassOf(cancelled)).toBe('temporal');
    expect(dependencyClassOf(new ServiceError('Failed to start Workflow', { cause: cancelled }))).toBe('temporal');
  });

  it('leaves a refusal by a live server (NOT_FOUND, INVALID_ARGUMENT) unclassified', () => {
    expect(dependencyClassOf(new ServiceError('Failed', { cause: grpcStatus(5, 'not found') }))).toBeUndefined();
    expect(dependencyClassOf(new ServiceError('Failed', { cause: grpcStatus(3, 'invalid') }))).toBeUndefined();
  });
});
