import { defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type ConnectionOptions } from '@temporalio/client';

type GrpcInterceptor = NonNullable<ConnectionOptions['interceptors']>[number];

/**
 * The SDK's retries of UNAVAILABLE (a refused or reset connection: a Temporal server that is down or restarting), but
 * never asleep past the call's deadline. The SDK's backoff alone would sleep through it (its 6th wait is 2.4 s), and
 * an HTTP request would then be answered by the request's backstop as an anonymous `timeout` instead of naming
 * `temporal`. Here, when the next attempt would start after the deadline, the call fails now with its UNAVAILABLE.
 */
export function deadlineBoundedRetryInterceptor(): GrpcInterceptor {
  const defaults = defaultGrpcRetryOptions();
  return (options, nextCall) => {
    const deadline = options.deadline instanceof Date ? options.deadline.getTime() : options.deadline;
    let plannedDelayMs = 0;
    return makeGrpcRetryInterceptor({
      retryableDecider(attempt, status) {
        if (!defaults.retryableDecider(attempt, status)) return false;
        // Decided with the delay it will wait (the SDK's delay has jitter): delayFunction below returns this one.
        plannedDelayMs = defaults.delayFunction(attempt, status);
        return deadline === undefined || Date.now() + plannedDelayMs < deadline;
      },
      delayFunction: () => plannedDelayMs,
    })(options, nextCall);
  };
}
