import type { RequestHandler, Response } from 'express';
import type { Authenticator } from '../../auth/authenticator';
import type { Authentication, Principal } from '../../auth/principal';
import type { Logger } from '../../observability/logger';
import { Problem } from '../problem';

declare global {
  namespace Express {
    interface Locals {
      authentication?: Authentication;
    }
  }
}

/**
 * Resolves who is calling, once per request, before any route. It refuses nothing itself: a public route ignores a
 * bad credential, a guarded route answers 401 for it.
 */
export function authenticate(authenticator: Authenticator, logger: Logger): RequestHandler {
  return async (request, response, next) => {
    const authentication = await authenticator.authenticate(request.header('authorization'));
    if (authentication.outcome === 'refused') logger.debug({ failure: authentication.failure, path: request.path }, 'credentials refused');
    response.locals.authentication = authentication;
    next();
  };
}

export function authenticationOf(response: Response): Authentication {
  return response.locals.authentication ?? { outcome: 'anonymous' };
}

/** 401 with the same words for a missing, unknown, expired or revoked credential: no hint which one it was. */
export function unauthorized(authentication: Authentication): Problem {
  const challenge = authentication.outcome === 'refused' ? 'Bearer realm="control-plane", error="invalid_token"' : 'Bearer realm="control-plane"';
  return new Problem(401, 'Unauthorized', 'Valid credentials are required: a session token, an API key or an operator token.', {}, { 'WWW-Authenticate': challenge });
}

export function principalOf(response: Response): Principal {
  const authentication = authenticationOf(response);
  if (authentication.outcome !== 'authenticated') throw unauthorized(authentication);
  return authentication.principal;
}
