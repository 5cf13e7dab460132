import { isGrpcServiceError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';

/** gRPC status codes (grpc/doc/statuscodes.md) that say Temporal did not answer, not that it refused the request. */
const GRPC_CANCELLED = 1;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_RESOURCE_EXHAUSTED = 8;
const GRPC_UNAVAILABLE = 14;
const UNAVAILABLE_CODES = new Set([GRPC_CANCELLED, GRPC_DEADLINE_EXCEEDED, GRPC_RESOURCE_EXHAUSTED, GRPC_UNAVAILABLE]);

/**
 * Whether an error from the Temporal client means the service is unreachable, overloaded or too slow: gRPC UNAVAILABLE
 * (refused, reset, no connection), DEADLINE_EXCEEDED (no answer within the call's deadline: a frozen server) or
 * RESOURCE_EXHAUSTED (its rate limits), bare or inside the SDK's wrappers (ServiceError, the update RPC's timeout).
 * CANCELLED too: the API never cancels a call itself, but a Temporal server whose own store stalls (its Postgres frozen)
 * answers a start CANCELLED ("context canceled") as our deadline nears; the drills met it as a 500.
 */
export function isTemporalUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    if (current instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
    if (isGrpcServiceError(current) && UNAVAILABLE_CODES.has((current as { code?: number }).code ?? -1)) return true;
  }
  return false;
}
