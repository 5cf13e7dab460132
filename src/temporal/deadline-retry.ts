import { defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type ConnectionOptions } from '@temporalio/client';

type GrpcInterceptor = NonNullable<ConnectionOptions['interceptors']>[number];

/**
 * The SDK's retries of UNAVAILABLE (a refused or reset connection: a Temporal server that is down or restarting), but
 * never asleep past the call's deadline. The SDK's backoff alone would sleep through it (its 6th wait is 2.4 s), and
 * an HTTP request would then be answered by the request's backstop as an anonymous `timeout` instead of naming
 * `temporal`. Here, when the next attempt would start after the deadline, the call fails now with its UNAVAILABLE.
 */
/** Waits between attempts are capped, so a Temporal restart shorter than the deadline is ridden out, not slept through. */
const RETRY_WAIT_CAP_MS = 500;
/** RESOURCE_EXHAUSTED keeps the SDK's own backoff: a server shedding load is not helped by faster retries. */
const RESOURCE_EXHAUSTED = 8;
/** Room left for the retried attempt itself: an attempt that would start at the deadline's edge would end past it. */
const ATTEMPT_ALLOWANCE_MS = 100;

export function deadlineBoundedRetryInterceptor(): GrpcInterceptor {
  const defaults = defaultGrpcRetryOptions({ maxAttempts: 30 });
  return (options, nextCall) => {
    const deadline = options.deadline instanceof Date ? options.deadline.getTime() : options.deadline;
    let plannedDelayMs = 0;
    return makeGrpcRetryInterceptor({
      retryableDecider(attempt, status) {
        if (!defaults.retryableDecider(attempt, status)) return false;
        // Decided with the delay it will wait (the SDK's delay has jitter): delayFunction below returns this one.
        const sdkDelayMs = defaults.delayFunction(attempt, status);
        plannedDelayMs = status.code === RESOURCE_EXHAUSTED ? sdkDelayMs : Math.min(RETRY_WAIT_CAP_MS, sdkDelayMs);
        return deadline === undefined || Date.now() + plannedDelayMs + ATTEMPT_ALLOWANCE_MS < deadline;
      },
      delayFunction: () => plannedDelayMs,
    })(options, nextCall);
  };
}
