import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { extendInvitationUpdate, invitationSettledSignal, type InvitationView, type InvitationWorkflowInput } from '../../contracts/accounts';
import { hashPassword, verifyPassword } from '../../auth/password-hash';
import { secretHash } from '../../auth/secret-hash';
import { recordAudit } from '../../db/audit';
import { liveInvitationEmail } from '../../db/invitations';
import { consumeLinkToken, findLiveLinkToken, withdrawLinkToken } from '../../db/link-tokens';
import { inviterStillGrants, revokeMemberCredentials } from '../../db/member-credentials';
import type { Orm } from '../../db/orm';
import { takeMailRation } from '../../db/mail-ration';
import { endMemberSessions } from '../../db/sessions';
import { countSeats, lockTenantSeats, type SeatCount } from '../../db/seats';
import { DAY_MS } from '../../domain/duration';
import { seatAvailable, type InvitationStatus } from '../../domain/invitation';
import type { MailRationScope, MailRationSettings } from '../../domain/mail-ration';
import { isLinkTokenShaped } from '../../domain/link-token';
import { passwordProblems } from '../../domain/password-policy';
import { mayGrant, outranksOrEquals } from '../../domain/permissions';
import type { MembershipRole } from '../../domain/tenant-status';
import { TENANT_ID } from '../../temporal/search-attributes';
import { invitationWorkflowId } from '../../temporal/workflow-ids';

export interface InvitationSummary {
  id: string;
  email: string;
  role: MembershipRole;
  status: InvitationStatus;
  invitedBy: string;
  expiresAt: string;
  createdAt: string;
}

export interface MemberSummary {
  userId: string;
  email: string;
  role: MembershipRole;
  emailVerified: boolean;
  joinedAt: string;
}

/** Who asks: the acting member's id (null for an API key or operator) and role, for the no-escalation rules. */
export interface TeamActor {
  actor: string;
  userId: string | null;
  role: MembershipRole;
}

export type InviteOutcome =
  | { kind: 'invited'; invitation: InvitationSummary }
  | { kind: 'already_member' }
  | { kind: 'already_invited'; invitationId: string }
  | { kind: 'no_seat'; seats: SeatCount }
  /** The mail ration is spent: nothing was written and no mail goes out. */
  | { kind: 'rationed'; scope: MailRationScope; retryAfterSeconds: number };
export type AcceptOutcome =
  | { kind: 'accepted'; tenantId: string; userId: string; role: MembershipRole; newAccount: boolean }
  | { kind: 'invalid_token' }
  | { kind: 'wrong_password' }
  | { kind: 'weak_password'; problems: string[] }
  | { kind: 'already_member' }
  | { kind: 'tenant_unavailable'; status: string }
  | { kind: 'no_seat'; seats: SeatCount };
export type MemberChangeOutcome = 'changed' | 'not_found' | 'last_owner' | 'outranked' | 'not_grantable';

interface InvitationRow {
  id: string;
  email: string;
  role: MembershipRole;
  status: InvitationStatus;
  invited_by: string;
  expires_at: Date;
  created_at: Date;
}

const iso = (at: Date | string) => new Date(at).toISOString();
const summary = (row: InvitationRow): InvitationSummary => ({ id: row.id, email: row.email, role: row.role, status: row.status, invitedBy: row.invited_by, expiresAt: iso(row.expires_at), createdAt: iso(row.created_at) });

/**
 * A tenant's people: invitations (each a workflow with its expiry and reminder) and members. Every change is one
 * transaction under the tenant's seat lock, audited: members plus pending invitations never pass the plan's seats,
 * and the last owner is never demoted or removed.
 */
export function createTeamService(deps: { client: Client; orm: Orm; taskQueue: string; expiryDays: number; reminderAfterHours: number; mailRation: MailRationSettings; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());

  async function signalSettled(invitationId: string, outcome: 'accepted' | 'revoked'): Promise<void> {
    try {
      await deps.client.workflow.getHandle(invitationWorkflowId(invitationId)).signal(invitationSettledSignal, { outcome });
    } catch (error) {
      // Already ended (it expired, or this is a repeat): Postgres holds the outcome either way.
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
  }

  /** The invitation could not get its workflow: it is withdrawn, so its seat is not held by an invitation nobody mails. */
  async function withdrawUnstarted(tenantId: string, invitationId: string): Promise<void> {
    await deps.orm.em.fork().transactional(async (em) => {
      await em.execute(`update invitation set status = 'revoked', updated_at = now() where id = ? and status = 'pending'`, [invitationId], 'run');
      await recordAudit(em, { actor: 'system:invitations', action: 'invitation.start_failed', entityType: 'invitation', entityId: invitationId, tenantId, idempotencyKey: `invitation:${invitationId}:start_failed` });
    });
  }

  return {
    async invite(input: { tenantId: string; email: string; role: MembershipRole; by: TeamActor }): Promise<InviteOutcome> {
      const email = input.email.toLowerCase();
      const expiresAt = new Date(now().getTime() + deps.expiryDays * DAY_MS);
      const outcome = await deps.orm.em.fork().transactional(async (em): Promise<InviteOutcome> => {
        await lockTenantSeats(em, input.tenantId);
        const member = await em.execute('select 1 from tenant_membership m join app_user u on u.id = m.user_id where m.tenant_id = ? and u.email = ?', [input.tenantId, email]);
        if (member.length > 0) return { kind: 'already_member' };
        const [invited] = await em.execute<Array<{ id: string }>>(`select id from invitation where tenant_id = ? and email = ? and status = 'pending'`, [input.tenantId, email]);
        if (invited) return { kind: 'already_invited', invitationId: invited.id };
        const seats = await countSeats(em, input.tenantId);
        if (!seatAvailable(seats)) return { kind: 'no_seat', seats };
        // Taken with the insert below: a refusal writes nothing, and the invitation exists only with its mail's entry.
        const ration = await takeMailRation(em, { tenantId: input.tenantId, recipient: email, kind: 'invitation', now: now(), settings: deps.mailRation });
        if (!ration.allowed) return { kind: 'rationed', scope: ration.scope, retryAfterSeconds: ration.retryAfterSeconds };
        const row: InvitationRow = { id: randomUUID(), email, role: input.role, status: 'pending', invited_by: input.by.actor, expires_at: expiresAt, created_at: now() };
        await em.execute(
          `insert into invitation (id, tenant_id, email, role, status, invited_by, expires_at, created_at, updated_at) values (?, ?, ?, ?, 'pending', ?, ?, ?, ?)`,
          [row.id, input.tenantId, email, input.role, input.by.actor, expiresAt, row.created_at, row.created_at],
          'run',
        );
        await recordAudit(em, {
          actor: input.by.actor,
          action: 'invitation.created',
          entityType: 'invitation',
          entityId: row.id,
          tenantId: input.tenantId,
          toState: 'pending',
          idempotencyKey: `invitation:${row.id}:created`,
          details: { email, role: input.role, expiresAt: expiresAt.toISOString(), seats: { ...seats, pending: seats.pending + 1 } },
        });
        return { kind: 'invited', invitation: summary(row) };
      });
      if (outcome.kind !== 'invited') return outcome;
      const workflowInput: InvitationWorkflowInput = { invitationId: outcome.invitation.id, tenantId: input.tenantId, expiresAt: expiresAt.toISOString(), reminderAfterHours: deps.reminderAfterHours };
      try {
        await deps.client.workflow.start('teamInvitation', {
          taskQueue: deps.taskQueue,
          workflowId: invitationWorkflowId(outcome.invitation.id),
          args: [workflowInput],
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          typedSearchAttributes: [{ key: TENANT_ID, value: input.tenantId }],
          staticSummary: `Invitation to tenant ${input.tenantId} as ${input.role}`,
        });
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) {
          await withdrawUnstarted(input.tenantId, outcome.invitation.id);
          throw error;
        }
      }
      return outcome;
    },

    async invitations(tenantId: string): Promise<InvitationSummary[]> {
      const rows = await deps.orm.em
        .fork()
        .execute<InvitationRow[]>('select id, email, role, status, invited_by, expires_at, created_at from invitation where tenant_id = ? order by created_at desc, id limit 500', [tenantId]);
      return rows.map(summary);
    },

    /** Revoking twice is fine; an invitation already accepted or expired cannot be revoked. */
    async revoke(input: { tenantId: string; invitationId: string; by: TeamActor }): Promise<'revoked' | 'not_found' | InvitationStatus> {
      const outcome = await deps.orm.em.fork().transactional(async (em) => {
        await lockTenantSeats(em, input.tenantId);
        const [row] = await em.execute<Array<{ status: InvitationStatus }>>('select status from invitation where id = ? and tenant_id = ? for update', [input.invitationId, input.tenantId]);
        if (!row) return 'not_found' as const;
        if (row.status !== 'pending') return row.status;
        await em.execute(`update invitation set status = 'revoked', updated_at = now() where id = ?`, [input.invitationId], 'run');
        await withdrawLinkToken(em, 'invitation', input.invitationId);
        await recordAudit(em, {
          actor: input.by.actor,
          action: 'invitation.revoked',
          entityType: 'invitation',
          entityId: input.invitationId,
          tenantId: input.tenantId,
          fromState: 'pending',
          toState: 'revoked',
          idempotencyKey: `invitation:${input.invitationId}:revoked`,
        });
        return 'revoked' as const;
      });
      if (outcome === 'revoked') await signalSettled(input.invitationId, 'revoked');
      return outcome;
    },

    /** The address an invitation link names while it can be accepted: the account a password given with it is checked against. */
    async invitee(token: string): Promise<string | undefined> {
      if (!isLinkTokenShaped(token)) return undefined;
      return liveInvitationEmail(deps.orm.em.fork(), secretHash(token), now());
    },

    /**
     * Accepting creates the membership: a new person sets a password (under the policy), someone with an account
     * proves it with theirs. Refused past the seats (the invitation's own seat aside: it becomes the member's).
     */
    async accept(input: { token: string; password: string }): Promise<AcceptOutcome> {
      if (!isLinkTokenShaped(input.token)) return { kind: 'invalid_token' };
      const tokenHash = secretHash(input.token);
      const em = deps.orm.em.fork();
      const [invitation] = await em.execute<Array<{ id: string; tenant_id: string; email: string; role: MembershipRole; status: InvitationStatus; expires_at: Date }>>(
        `select i.id, i.tenant_id, i.email, i.role, i.status, i.expires_at from link_token l join invitation i on i.id = l.subject_id
          where l.purpose = 'invitation' and l.token_hash = ? and l.used_at is null`,
        [tokenHash],
      );
      if (!invitation || invitation.status !== 'pending' || new Date(invitation.expires_at).getTime() <= now().getTime()) return { kind: 'invalid_token' };
      const [existing] = await em.execute<Array<{ id: string; password_hash: string }>>('select id, password_hash from app_user where email = ?', [invitation.email]);
      let newPasswordHash: string | undefined;
      if (existing) {
        if (!(await verifyPassword(input.password, existing.password_hash))) return { kind: 'wrong_password' };
      } else {
        const problems = passwordProblems(input.password, invitation.email);
        if (problems.length > 0) return { kind: 'weak_password', problems };
        newPasswordHash = await hashPassword(input.password);
      }

      const outcome = await deps.orm.em.fork().transactional(async (tx): Promise<AcceptOutcome> => {
        await lockTenantSeats(tx, invitation.tenant_id);
        const holder = await findLiveLinkToken(tx, 'invitation', tokenHash, now());
        const [current] = await tx.execute<Array<{ status: InvitationStatus }>>('select status from invitation where id = ? for update', [invitation.id]);
        if (!holder || current?.status !== 'pending') return { kind: 'invalid_token' };
        // Beside the withdrawal at removal or demotion: an invitation is only as good as its sender's standing now.
        if (!(await inviterStillGrants(tx, invitation.id))) return { kind: 'invalid_token' };
        // Nobody joins a tenant that is suspended or on its way out; the invitation stays, for when it is active again.
        const [tenant] = await tx.execute<Array<{ status: string }>>('select status from tenant where id = ?', [invitation.tenant_id]);
        if (tenant?.status !== 'active') return { kind: 'tenant_unavailable', status: tenant?.status ?? 'gone' };
        const userId = existing?.id ?? randomUUID();
        if (existing && (await tx.execute('select 1 from tenant_membership where tenant_id = ? and user_id = ?', [invitation.tenant_id, userId])).length > 0) return { kind: 'already_member' };
        const seats = await countSeats(tx, invitation.tenant_id, invitation.id);
        if (!seatAvailable(seats)) return { kind: 'no_seat', seats };
        if (!existing) {
          // Opening the link proved the address; a person who joins only this tenant leaves with it (offboarding purge).
          await tx.execute(
            'insert into app_user (id, email, password_hash, created_by_tenant_id, email_verified_at, created_at) values (?, ?, ?, ?, ?, ?)',
            [userId, invitation.email, newPasswordHash, invitation.tenant_id, now(), now()],
            'run',
          );
        }
        await tx.execute('insert into tenant_membership (id, tenant_id, user_id, role, created_at) values (?, ?, ?, ?, ?)', [randomUUID(), invitation.tenant_id, userId, invitation.role, now()], 'run');
        await tx.execute(`update invitation set status = 'accepted', accepted_user_id = ?, updated_at = now() where id = ?`, [userId, invitation.id], 'run');
        await consumeLinkToken(tx, 'invitation', invitation.id, now());
        const actor = `user:${userId}`;
        await recordAudit(tx, {
          actor,
          action: 'invitation.accepted',
          entityType: 'invitation',
          entityId: invitation.id,
          tenantId: invitation.tenant_id,
          fromState: 'pending',
          toState: 'accepted',
          idempotencyKey: `invitation:${invitation.id}:accepted`,
          details: { userId, role: invitation.role, newAccount: !existing },
        });
        await recordAudit(tx, { actor, action: 'member.added', entityType: 'user', entityId: userId, tenantId: invitation.tenant_id, toState: invitation.role, idempotencyKey: `member:${invitation.tenant_id}:${userId}:added:${invitation.id}`, details: { invitationId: invitation.id } });
        return { kind: 'accepted', tenantId: invitation.tenant_id, userId, role: invitation.role, newAccount: !existing };
      });
      if (outcome.kind === 'accepted') await signalSettled(invitation.id, 'accepted');
      return outcome;
    },

    async members(tenantId: string): Promise<{ members: MemberSummary[]; seats: SeatCount }> {
      const em = deps.orm.em.fork();
      const rows = await em.execute<Array<{ user_id: string; email: string; role: MembershipRole; email_verified_at: Date | null; created_at: Date }>>(
        `select m.user_id, u.email, m.role, u.email_verified_at, m.created_at from tenant_membership m join app_user u on u.id = m.user_id
          where m.tenant_id = ? order by m.created_at, u.email`,
        [tenantId],
      );
      return {
        members: rows.map((row) => ({ userId: row.user_id, email: row.email, role: row.role, emailVerified: row.email_verified_at !== null, joinedAt: iso(row.created_at) })),
        seats: await countSeats(em, tenantId),
      };
    },

    seats: (tenantId: string) => countSeats(deps.orm.em.fork(), tenantId),

    /**
     * A new role for a member, or their removal (`role: null`). Nobody acts on someone who outranks them or grants
     * above their own role, and the tenant always keeps an owner. A removed member's sessions of this tenant end.
     */
    async changeMember(input: { tenantId: string; userId: string; role: MembershipRole | null; by: TeamActor }): Promise<MemberChangeOutcome> {
      let withdrawn: string[] = [];
      const outcome = await deps.orm.em.fork().transactional(async (em): Promise<MemberChangeOutcome> => {
        await lockTenantSeats(em, input.tenantId);
        const [member] = await em.execute<Array<{ role: MembershipRole }>>('select role from tenant_membership where tenant_id = ? and user_id = ?', [input.tenantId, input.userId]);
        if (!member) return 'not_found';
        if (!outranksOrEquals(input.by.role, member.role)) return 'outranked';
        if (input.role !== null && !mayGrant(input.by.role, input.role)) return 'not_grantable';
        if (member.role === 'owner' && input.role !== 'owner') {
          const [owners] = await em.execute<Array<{ count: string }>>(`select count(*) from tenant_membership where tenant_id = ? and role = 'owner'`, [input.tenantId]);
          if (Number(owners?.count ?? 0) <= 1) return 'last_owner';
        }
        const at = now().toISOString();
        if (input.role === null) {
          // Their keys and pending invitations go with them, each audited with the reason; their refresh tokens are revoked
          // (the delete alone already refuses their access tokens).
          withdrawn = (await revokeMemberCredentials(em, { tenantId: input.tenantId, userId: input.userId, change: { kind: 'removed' }, actor: input.by.actor, at: now() })).invitationIds;
          await endMemberSessions(em, { tenantId: input.tenantId, userId: input.userId, reason: 'membership_gone', at: now() });
          await em.execute('delete from tenant_membership where tenant_id = ? and user_id = ?', [input.tenantId, input.userId], 'run');
          await recordAudit(em, { actor: input.by.actor, action: 'member.removed', entityType: 'user', entityId: input.userId, tenantId: input.tenantId, fromState: member.role, idempotencyKey: `member:${input.tenantId}:${input.userId}:removed:${at}` });
        } else {
          if (input.role === member.role) return 'changed';
          await em.execute('update tenant_membership set role = ? where tenant_id = ? and user_id = ?', [input.role, input.tenantId, input.userId], 'run');
          // Any role change ends their sessions (the next one is issued under the new role); a demotion also takes the
          // keys and invitations above the new role.
          await endMemberSessions(em, { tenantId: input.tenantId, userId: input.userId, reason: 'role_changed', at: now() });
          if (!mayGrant(input.role, member.role)) {
            withdrawn = (await revokeMemberCredentials(em, { tenantId: input.tenantId, userId: input.userId, change: { kind: 'demoted', to: input.role }, actor: input.by.actor, at: now() })).invitationIds;
          }
          await recordAudit(em, { actor: input.by.actor, action: 'member.role_changed', entityType: 'user', entityId: input.userId, tenantId: input.tenantId, fromState: member.role, toState: input.role, idempotencyKey: `member:${input.tenantId}:${input.userId}:role:${at}` });
        }
        return 'changed';
      });
      for (const invitationId of withdrawn) await signalSettled(invitationId, 'revoked');
      return outcome;
    },

    /** Operators: more time for a pending invitation, through its workflow (which audits it). */
    async extend(input: { tenantId: string; invitationId: string; days: number; actor: string; reason: string }): Promise<{ kind: 'extended'; view: InvitationView } | { kind: 'not_found' } | { kind: 'refused'; message: string }> {
      const [row] = await deps.orm.em.fork().execute('select 1 from invitation where id = ? and tenant_id = ?', [input.invitationId, input.tenantId]);
      if (!row) return { kind: 'not_found' };
      try {
        const view = await deps.client.workflow.getHandle(invitationWorkflowId(input.invitationId)).executeUpdate(extendInvitationUpdate, { args: [{ actor: input.actor, reason: input.reason, days: input.days }] });
        return { kind: 'extended', view };
      } catch (error) {
        if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) return { kind: 'refused', message: error.cause.message };
        if (error instanceof WorkflowNotFoundError) return { kind: 'refused', message: 'the invitation is no longer pending' };
        throw error;
      }
    },
  };
}

export type TeamService = ReturnType<typeof createTeamService>;
