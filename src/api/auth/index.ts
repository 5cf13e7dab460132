export { authenticate, authenticationOf, principalOf, unauthorized } from './authentication';
export { declaredRequirement, declares, parseRequirement, publicAccess, type AuthRequirement } from './requirement';
export { requireOperator } from './require-operator';
export { createTenantGuard, tenantNotFound, tenantPrincipalOf, TENANT_PATH_PARAMETER, type RequireTenant } from './require-tenant';
export { createRouteDeclarer, guardFor, type RouteDeclaration, type RouteDeclarer } from './route';
