import type { RequestHandler, Router } from 'express';
import { publicAccess, parseRequirement, type AuthRequirement } from './requirement';
import { requireOperator } from './require-operator';
import type { RequireTenant } from './require-tenant';
import type { ApiCatalog, RouteDocs } from '../openapi';

export interface RouteDeclaration {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  auth: AuthRequirement;
  /** Route-specific middleware (rate limits, switches) that runs after the auth guard, then the handler. */
  before?: RequestHandler[];
  handler: RequestHandler;
  /** Summary and the zod schemas the handler validates with: the OpenAPI document is built from them. */
  docs?: RouteDocs;
}

/** Guard first, always: nothing of a route runs before its auth requirement holds. */
export function guardFor(requireTenant: RequireTenant, requirement: AuthRequirement): RequestHandler {
  const parsed = parseRequirement(requirement);
  switch (parsed.kind) {
    case 'public':
      return publicAccess;
    case 'tenant':
      return requireTenant(parsed.permission);
    case 'operator':
      return requireOperator(parsed.role);
  }
}

/** `route(router, { method, path, auth, handler })`: a route cannot be added without saying who may call it. */
export function createRouteDeclarer(requireTenant: RequireTenant, catalog?: ApiCatalog) {
  return function route(router: Router, declaration: RouteDeclaration): void {
    catalog?.add({ method: declaration.method, path: declaration.path, auth: declaration.auth, docs: declaration.docs });
    router[declaration.method](declaration.path, guardFor(requireTenant, declaration.auth), ...(declaration.before ?? []), declaration.handler);
  };
}

export type RouteDeclarer = ReturnType<typeof createRouteDeclarer>;
