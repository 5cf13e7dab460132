import type { OperatorRole } from '../domain/permissions';
import type { MembershipRole, TenantStatus } from '../domain/tenant-status';

interface TenantActing {
  tenantId: string;
  /** Read from the membership or key row on this request, never from a token: a demotion takes effect at once. */
  role: MembershipRole;
  tenantStatus: TenantStatus;
}

export interface UserPrincipal extends TenantActing {
  kind: 'user';
  userId: string;
}

export interface ApiKeyPrincipal extends TenantActing {
  kind: 'api_key';
  keyId: string;
}

/** A platform operator: configured, never derived from any tenant membership. */
export interface OperatorPrincipal {
  kind: 'operator';
  name: string;
  role: OperatorRole;
}

export type TenantPrincipal = UserPrincipal | ApiKeyPrincipal;
export type Principal = TenantPrincipal | OperatorPrincipal;

/** The audit trail's name for whoever acts. */
export function actorOf(principal: Principal): string {
  switch (principal.kind) {
    case 'user':
      return `user:${principal.userId}`;
    case 'api_key':
      return `api_key:${principal.keyId}`;
    case 'operator':
      return `operator:${principal.name}`;
  }
}

/** Why presented credentials were not accepted; only ever logged, the client hears one generic answer. */
export type CredentialFailure = 'malformed' | 'unknown' | 'expired' | 'revoked' | 'membership_gone' | 'session_ended' | 'creator_gone';

export type Authentication =
  | { outcome: 'anonymous' }
  | { outcome: 'authenticated'; principal: Principal }
  | { outcome: 'refused'; failure: CredentialFailure };
