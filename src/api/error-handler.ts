import type { ErrorRequestHandler, RequestHandler } from 'express';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { dependencyClassOf, dependencyUnavailable } from './dependency-problem';
import { Problem, sendProblem } from './problem';

interface HttpError { status?: number; statusCode?: number; type?: string; expose?: boolean }

/** The one table from errors a client can cause to HTTP statuses; anything else is our fault and is a logged 500. */
function toProblem(error: unknown): Problem | undefined {
  if (error instanceof Problem) return error;
  // Express could not percent-decode a path segment (bytes that are not UTF-8): the path is malformed, not missing.
  if (error instanceof URIError) {
    return new Problem(400, 'Validation failed', 'The request path is not valid.', { errors: [{ path: 'path', message: 'is not valid percent-encoded UTF-8' }] });
  }
  if (error instanceof WorkflowExecutionAlreadyStartedError) return new Problem(409, 'Already started', 'That operation is already under way.');
  if (error instanceof WorkflowNotFoundError) return new Problem(404, 'Not found', 'No such resource.');
  // An update validator refused the transition (no approval pending, run no longer interruptible…): nothing happened.
  if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
    return new Problem(409, 'Transition refused', error.cause.message, { reason: error.cause.type });
  }
  const http = error as HttpError;
  switch (http?.type) {
    case 'entity.too.large':
      return new Problem(413, 'Payload too large', 'The request body is larger than the limit.');
    case 'entity.parse.failed':
      return new Problem(400, 'Malformed JSON', 'The request body is not valid JSON.', { errors: [{ path: 'body', message: 'is not valid JSON' }] });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new Problem(415, 'Unsupported media type', 'The request body encoding is not supported.');
  }
  const status = http?.status ?? http?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return new Problem(status, 'Bad request', 'The request could not be understood.');
  return undefined;
}

export function errorHandler(logger: Logger, metrics?: Pick<Metrics, 'dependencyUnavailable'>): ErrorRequestHandler {
  return (error, request, response, next) => {
    if (response.headersSent) {
      // An answer cut off halfway: Express's own handler closes the connection, so the client is not left waiting.
      if (!response.writableEnded) return next(error);
      // The request deadline answered already (src/api/request-deadline.ts): the late outcome has nowhere to go. A late
      // outage or the refused write is expected there; anything else is still a bug worth seeing.
      const expected = dependencyClassOf(error) !== undefined || (error as { code?: unknown })?.code === 'ERR_HTTP_HEADERS_SENT';
      if (expected) logger.debug({ method: request.method, path: request.path }, 'late answer dropped: the request was answered at its deadline');
      else logger.error({ err: error, method: request.method, path: request.path }, 'unhandled error after the request was answered at its deadline');
      return;
    }
    const problem = toProblem(error);
    if (problem) return sendProblem(response, problem, request.originalUrl);
    // An outage is not our bug: 503 with Retry-After naming the dependency's class, never a 500 ("do not retry").
    const dependency = dependencyClassOf(error);
    if (dependency) {
      metrics?.dependencyUnavailable.inc({ dependency });
      // Name and code only: a driver's message can carry the statement.
      const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
      logger.warn({ dependency, errorName: name, code, method: request.method, path: request.path }, 'dependency unavailable: answered 503');
      return sendProblem(response, dependencyUnavailable(dependency), request.originalUrl);
    }
    logger.error({ err: error, method: request.method, path: request.path }, 'unhandled error');
    sendProblem(response, new Problem(500, 'Internal error', 'Something went wrong on our side; try again later.'), request.originalUrl);
  };
}

export const notFoundHandler: RequestHandler = (request, response) =>
  sendProblem(response, new Problem(404, 'Not found', `No route for ${request.method} ${request.path}.`), request.originalUrl);

/** Every JSON route refuses other bodies with 415 before the parser sees them. */
export const requireJsonBody: RequestHandler = (request, _response, next) => {
  const hasBody = Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined;
  if (hasBody && !request.is('application/json')) {
    return next(new Problem(415, 'Unsupported media type', 'Send the body as application/json.'));
  }
  next();
};
