import type { RequestHandler } from 'express';
import type { Connection } from '@temporalio/client';
import { dependencyUnavailable } from './dependency-problem';
import { sendProblem } from './problem';

export interface RequestDeadlineOptions {
  deadlineMs: number;
  /** The process's Temporal connection: its calls made for this request share the request's deadline. */
  temporal?: Pick<Connection, 'withDeadline'>;
  /** Counted when the backstop answers. */
  onTimeout?: () => void;
}

/**
 * Temporal calls end a little before the backstop, so a frozen Temporal is answered as `temporal` (by the error
 * handler), not as the backstop's anonymous `timeout`.
 */
const temporalMarginMs = (deadlineMs: number) => Math.min(1000, deadlineMs / 4);

/**
 * Every request is answered within its deadline. Temporal calls made for it carry the deadline (gRPC, through the
 * connection's call context), Postgres has its own client-side bounds (src/db/orm.ts); this is the backstop for a
 * chain of slow answers that each stayed within their own bound: 503 with Retry-After once the deadline passes.
 * The handler still running then finishes on its own and its answer is dropped (the error handler sees headersSent).
 */
export function requestDeadline(options: RequestDeadlineOptions): RequestHandler {
  return (request, response, next) => {
    const startedAt = Date.now();
    const backstop = setTimeout(() => {
      if (response.headersSent) return;
      // A late handler's write after this answer must not surface as an unhandled 'error' event.
      response.on('error', () => {});
      options.onTimeout?.();
      sendProblem(response, dependencyUnavailable('timeout'), request.originalUrl);
    }, options.deadlineMs);
    response.once('close', () => clearTimeout(backstop));
    if (!options.temporal) return next();
    void options.temporal.withDeadline(startedAt + options.deadlineMs - temporalMarginMs(options.deadlineMs), async () => next());
  };
}
