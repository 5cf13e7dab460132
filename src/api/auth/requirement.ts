import type { RequestHandler } from 'express';
import { isPermission, OPERATOR_ROLES, type OperatorRole, type Permission } from '../../domain/permissions';

/**
 * What a route demands of its caller, declared once beside the route: `public`, `tenant:<permission>` (a member of
 * the tenant in the path with that permission) or `operator:<role>` (a platform operator of at least that role).
 */
export type AuthRequirement = 'public' | `tenant:${Permission}` | `operator:${OperatorRole}`;

export type ParsedRequirement = { kind: 'public' } | { kind: 'tenant'; permission: Permission } | { kind: 'operator'; role: OperatorRole };

export function parseRequirement(requirement: AuthRequirement): ParsedRequirement {
  if (requirement === 'public') return { kind: 'public' };
  const separator = requirement.indexOf(':');
  const realm = requirement.slice(0, separator);
  const rest = requirement.slice(separator + 1);
  if (realm === 'tenant' && isPermission(rest)) return { kind: 'tenant', permission: rest };
  if (realm === 'operator' && (OPERATOR_ROLES as readonly string[]).includes(rest)) return { kind: 'operator', role: rest as OperatorRole };
  throw new Error(`unknown auth requirement ${requirement}`);
}

const AUTH_REQUIREMENT = Symbol.for('control-plane.auth-requirement');

type DeclaredHandler = RequestHandler & { [AUTH_REQUIREMENT]?: AuthRequirement };

/** Marks a middleware as the one that enforces `requirement`, so the route table can be checked for undeclared routes. */
export function declares<Handler extends RequestHandler>(requirement: AuthRequirement, handler: Handler): Handler {
  parseRequirement(requirement);
  (handler as DeclaredHandler)[AUTH_REQUIREMENT] = requirement;
  return handler;
}

export function declaredRequirement(handler: unknown): AuthRequirement | undefined {
  return typeof handler === 'function' ? (handler as DeclaredHandler)[AUTH_REQUIREMENT] : undefined;
}

/** The declaration of a route anyone may call: it checks nothing, and says so. */
export const publicAccess: RequestHandler = declares('public', (_request, _response, next) => next());
