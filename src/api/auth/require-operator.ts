import type { RequestHandler } from 'express';
import { operatorOutranksOrEquals, type OperatorRole } from '../../domain/permissions';
import { Problem } from '../problem';
import { authenticationOf, unauthorized } from './authentication';
import { declares } from './requirement';

/**
 * Platform operator routes (`/api/v1/admin/...`): only an operator token of at least `role` passes. Tenant
 * credentials, however high their tenant role, are refused: platform roles never come from a tenant membership.
 * Needs the app-wide `authenticate` middleware in front of it, and nothing else.
 */
export function requireOperator(role: OperatorRole = 'ops'): RequestHandler {
  return declares(`operator:${role}`, (_request, response, next) => {
    const authentication = authenticationOf(response);
    if (authentication.outcome !== 'authenticated') throw unauthorized(authentication);
    const principal = authentication.principal;
    if (principal.kind !== 'operator') throw new Problem(403, 'Operator credentials required', 'This route is for platform operators; tenant credentials do not reach it.');
    if (!operatorOutranksOrEquals(principal.role, role)) throw new Problem(403, 'Forbidden', `This route needs the ${role} operator role.`);
    next();
  });
}
