import type { Request, RequestHandler } from 'express';
import type { TenantPrincipal } from '../../auth/principal';
import { outranksOrEquals, PERMISSIONS, type Permission } from '../../domain/permissions';
import type { GateRecorder } from '../../gates/gate-recorder';
import { tenantRequestDecision } from '../../gates/lifecycle-gate';
import { gateProblem } from '../gate-problem';
import { parseOr400, Problem } from '../problem';
import { tenantPathSchema } from '../schemas/billing-state';
import { authenticationOf, unauthorized } from './authentication';
import { declares } from './requirement';

/** Every tenant-scoped route names its tenant `:tenantId`; the guard compares it with the caller's tenant. */
export const TENANT_PATH_PARAMETER = 'tenantId';

/** The same answer for a tenant that does not exist and one the caller does not belong to: existence is not leaked. */
export const tenantNotFound = () => new Problem(404, 'Not found', 'No such tenant.');

const routeName = (request: Request) => `${request.method} ${request.baseUrl}${request.route?.path ?? request.path}`;

/**
 * Guards a tenant-scoped route: 401 without valid credentials, 403 for operator credentials (they act through the
 * admin routes), 404 when the path's tenant is not the caller's, 403 when the role or credential kind lacks the
 * permission, then the lifecycle gate (403 naming the state).
 */
export function createTenantGuard(gates: GateRecorder) {
  return function requireTenant(permission: Permission): RequestHandler {
    const rule = PERMISSIONS[permission];
    return declares(`tenant:${permission}`, (request, response, next) => {
      const authentication = authenticationOf(response);
      if (authentication.outcome !== 'authenticated') throw unauthorized(authentication);
      const principal = authentication.principal;
      if (principal.kind === 'operator') {
        throw new Problem(403, 'Tenant credentials required', 'Operator credentials do not act inside a tenant; use the /api/v1/admin routes.');
      }
      // A route without :tenantId acts on the caller's own tenant (its services scope every read to it). A malformed
      // id is a 400 like any bad path, before the comparison: it names no tenant, so nothing is leaked.
      if (TENANT_PATH_PARAMETER in request.params) {
        parseOr400(tenantPathSchema, { [TENANT_PATH_PARAMETER]: request.params[TENANT_PATH_PARAMETER] }, 'path');
        if (request.params[TENANT_PATH_PARAMETER] !== principal.tenantId) throw tenantNotFound();
      }
      if (rule.sessionOnly && principal.kind === 'api_key') {
        throw new Problem(403, 'Session required', `${permission} needs a signed-in user; API keys cannot use it.`);
      }
      if (!outranksOrEquals(principal.role, rule.minimumRole)) {
        throw new Problem(403, 'Forbidden', `The ${principal.role} role cannot ${permission}; it needs ${rule.minimumRole} or above.`, { requiredRole: rule.minimumRole });
      }
      const decision = gates.record(tenantRequestDecision({ status: principal.tenantStatus, role: principal.role, access: rule.access, credential: principal.kind }), {
        boundary: routeName(request),
        tenantId: principal.tenantId,
      });
      if (!decision.allowed) throw gateProblem(decision);
      next();
    });
  };
}

export type RequireTenant = ReturnType<typeof createTenantGuard>;

/** The caller of a route behind requireTenant. */
export function tenantPrincipalOf(response: Parameters<RequestHandler>[1]): TenantPrincipal {
  const authentication = authenticationOf(response);
  if (authentication.outcome !== 'authenticated' || authentication.principal.kind === 'operator') throw unauthorized(authentication);
  return authentication.principal;
}
