import { MEMBERSHIP_ROLES, type MembershipRole } from './tenant-status';

/** Higher outranks lower; every role may do what the roles below it may. */
const ROLE_RANK: Record<MembershipRole, number> = { owner: 4, admin: 3, member: 2, viewer: 1 };

export const outranksOrEquals = (role: MembershipRole, minimum: MembershipRole) => ROLE_RANK[role] >= ROLE_RANK[minimum];

/** Roles strictly below `role`, highest first: the ones the authorization matrix must see refused. */
export const rolesBelow = (role: MembershipRole): MembershipRole[] =>
  MEMBERSHIP_ROLES.filter((candidate) => ROLE_RANK[candidate] < ROLE_RANK[role]);

/** Roles strictly above `role`: the credentials someone demoted to `role` may no longer hold or hand out. */
export const rolesAbove = (role: MembershipRole): MembershipRole[] =>
  MEMBERSHIP_ROLES.filter((candidate) => ROLE_RANK[candidate] > ROLE_RANK[role]);

/**
 * What a permission does to the tenant, which is what the lifecycle gate judges: `read` leaves it unchanged, `write`
 * changes it, `revoke` only takes access away (allowed even when writes are refused, so a leaked key can always be
 * killed).
 */
export type PermissionAccess = 'read' | 'write' | 'revoke';

export interface PermissionRule {
  minimumRole: MembershipRole;
  access: PermissionAccess;
  /** API keys may not use it: a leaked key must not be able to mint or manage keys and so persist itself. */
  sessionOnly: boolean;
}

/** The written permission table (docs/security.md shows the same table by role). */
export const PERMISSIONS = {
  'tenant:read': { minimumRole: 'viewer', access: 'read', sessionOnly: false },
  'runs:read': { minimumRole: 'viewer', access: 'read', sessionOnly: false },
  'runs:submit': { minimumRole: 'member', access: 'write', sessionOnly: false },
  'runs:approve': { minimumRole: 'admin', access: 'write', sessionOnly: false },
  'api_keys:read': { minimumRole: 'member', access: 'read', sessionOnly: true },
  'api_keys:create': { minimumRole: 'member', access: 'write', sessionOnly: true },
  'api_keys:revoke': { minimumRole: 'admin', access: 'revoke', sessionOnly: true },
  'billing:read': { minimumRole: 'admin', access: 'read', sessionOnly: false },
  'members:manage': { minimumRole: 'admin', access: 'write', sessionOnly: true },
  // Session only: the rules that govern runs are changed by a person, never by a machine credential a run could hold.
  'policies:manage': { minimumRole: 'admin', access: 'write', sessionOnly: true },
  'tenant:manage': { minimumRole: 'owner', access: 'write', sessionOnly: true },
  // A key moves to another member only by an owner's decision: otherwise it dies with its creator's standing.
  'api_keys:reown': { minimumRole: 'owner', access: 'write', sessionOnly: true },
  // Ending one's own sessions only ever takes one's own access away: any member may.
  'sessions:end': { minimumRole: 'viewer', access: 'revoke', sessionOnly: true },
} as const satisfies Record<string, PermissionRule>;

export type Permission = keyof typeof PERMISSIONS;

export const isPermission = (value: string): value is Permission => Object.hasOwn(PERMISSIONS, value);

/** Whether a holder of `role` may hand out a credential of `granted` role: never above its own (no escalation). */
export const mayGrant = (role: MembershipRole, granted: MembershipRole) => ROLE_RANK[granted] <= ROLE_RANK[role];

export const OPERATOR_ROLES = ['founder', 'ops'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];
const OPERATOR_RANK: Record<OperatorRole, number> = { founder: 2, ops: 1 };
export const operatorOutranksOrEquals = (role: OperatorRole, minimum: OperatorRole) => OPERATOR_RANK[role] >= OPERATOR_RANK[minimum];
export const operatorRolesBelow = (role: OperatorRole): OperatorRole[] =>
  OPERATOR_ROLES.filter((candidate) => OPERATOR_RANK[candidate] < OPERATOR_RANK[role]);
