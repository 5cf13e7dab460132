import type { EntityManager } from '@mikro-orm/postgresql';
import { mayGrant, outranksOrEquals, rolesAbove } from '../domain/permissions';
import { MEMBERSHIP_ROLES, type MembershipRole } from '../domain/tenant-status';
import { recordAudit } from './audit';
import { withdrawLinkToken } from './link-tokens';

/** Why a member's credentials are revoked without anyone asking for each one: the audit row of each names it. */
export type StandingChange = { kind: 'removed' } | { kind: 'demoted'; to: MembershipRole };

export interface RevokedMemberCredentials {
  apiKeyIds: string[];
  /** Pending invitations withdrawn: their workflows are told after the commit. */
  invitationIds: string[];
}

const reasonFor = (change: StandingChange, what: string) =>
  change.kind === 'removed' ? `${what}: its creator was removed from the tenant` : `${what}: its creator was demoted to ${change.to}, below its role`;

/**
 * A member's credentials that outlive their standing, revoked in the caller's transaction with an audit row each: on
 * removal every API key they made and every invitation still pending that they (or a key of theirs) sent; on demotion
 * only those above the new role. Keys are revoked, not re-roled: an automation that silently loses permissions fails
 * in confusing ways, a revoked key fails plainly and the audit says why.
 */
export async function revokeMemberCredentials(em: EntityManager, input: { tenantId: string; userId: string; change: StandingChange; actor: string; at: Date }): Promise<RevokedMemberCredentials> {
  const roles = input.change.kind === 'demoted' ? rolesAbove(input.change.to) : [...MEMBERSHIP_ROLES];
  if (roles.length === 0) return { apiKeyIds: [], invitationIds: [] };
  const keys = await em.execute<Array<{ id: string; role: MembershipRole; prefix: string }>>(
    `update api_key set revoked_at = ?, revoked_by = ?
      where tenant_id = ? and created_by_user_id = ? and revoked_at is null and role in (?)
      returning id, role, prefix`,
    [input.at, input.actor, input.tenantId, input.userId, roles],
  );
  const invitations = await em.execute<Array<{ id: string; role: MembershipRole }>>(
    `update invitation set status = 'revoked', updated_at = ?
      where tenant_id = ? and status = 'pending' and role in (?)
        and (invited_by = ? or invited_by in (select 'api_key:' || k.id::text from api_key k where k.tenant_id = ? and k.created_by_user_id = ?))
      returning id, role`,
    [input.at, input.tenantId, roles, `user:${input.userId}`, input.tenantId, input.userId],
  );
  for (const key of keys) {
    await recordAudit(em, {
      actor: input.actor,
      action: 'api_key.revoked',
      entityType: 'api_key',
      entityId: key.id,
      tenantId: input.tenantId,
      reason: reasonFor(input.change, `the ${key.role} key was revoked`),
      idempotencyKey: `api_key:${key.id}:revoked`,
      details: { prefix: key.prefix, role: key.role, creatorUserId: input.userId, cause: input.change.kind === 'removed' ? 'creator_removed' : 'creator_demoted' },
    });
  }
  for (const invitation of invitations) {
    await withdrawLinkToken(em, 'invitation', invitation.id);
    await recordAudit(em, {
      actor: input.actor,
      action: 'invitation.revoked',
      entityType: 'invitation',
      entityId: invitation.id,
      tenantId: input.tenantId,
      fromState: 'pending',
      toState: 'revoked',
      reason: reasonFor(input.change, `the ${invitation.role} invitation was withdrawn`),
      idempotencyKey: `invitation:${invitation.id}:revoked`,
      details: { inviterUserId: input.userId, cause: input.change.kind === 'removed' ? 'inviter_removed' : 'inviter_demoted' },
    });
  }
  return { apiKeyIds: keys.map((key) => key.id), invitationIds: invitations.map((invitation) => invitation.id) };
}

/**
 * Whether whoever sent an invitation could still send it now: a member inviter must still be a member who may grant
 * its role, a key inviter must be live and its creator still standing. Invitations sent by operators or the platform
 * have no such standing to lose.
 */
export async function inviterStillGrants(em: EntityManager, invitationId: string): Promise<boolean> {
  const [invitation] = await em.execute<Array<{ tenant_id: string; invited_by: string; role: MembershipRole }>>('select tenant_id, invited_by, role from invitation where id = ?', [invitationId]);
  if (!invitation) return false;
  const input = { tenantId: invitation.tenant_id, role: invitation.role };
  const [realm, id] = splitActor(invitation.invited_by);
  if (realm === 'user') {
    const [member] = await em.execute<Array<{ role: MembershipRole }>>('select role from tenant_membership where tenant_id = ? and user_id = ?', [input.tenantId, id]);
    return member !== undefined && mayGrant(member.role, input.role);
  }
  if (realm === 'api_key') {
    const [key] = await em.execute<Array<{ role: MembershipRole; revoked_at: Date | null; created_by_user_id: string | null; creator_role: MembershipRole | null }>>(
      `select k.role, k.revoked_at, k.created_by_user_id, c.role as creator_role
         from api_key k left join tenant_membership c on c.tenant_id = k.tenant_id and c.user_id = k.created_by_user_id
        where k.tenant_id = ? and k.id = ?`,
      [input.tenantId, id],
    );
    if (!key || key.revoked_at !== null || !mayGrant(key.role, input.role)) return false;
    return key.created_by_user_id === null || (key.creator_role !== null && outranksOrEquals(key.creator_role, key.role));
  }
  return true;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `user:<id>` and `api_key:<id>` name a credential with a standing; anything else (or a malformed id) does not. */
function splitActor(actor: string): ['user' | 'api_key', string] | ['other', null] {
  const separator = actor.indexOf(':');
  const realm = actor.slice(0, separator);
  const id = actor.slice(separator + 1);
  if ((realm === 'user' || realm === 'api_key') && UUID.test(id)) return [realm, id];
  return ['other', null];
}
