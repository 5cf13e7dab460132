import { deriveLinkToken } from '../src/auth/link-token';
import { recordAudit } from '../src/db/audit';
import { issueLinkToken, linkTokenToSend, withdrawLinkToken } from '../src/db/link-tokens';
import { mayMailUnasked } from '../src/db/mail-ration';
import type { Orm } from '../src/db/orm';
import type { InvitationStatus } from '../src/domain/invitation';
import type { MembershipRole } from '../src/domain/tenant-status';
import { deliver, type DeliveryOutcome } from '../src/mail/delivery';
import { invitationMail } from '../src/mail/templates';
import type { Metrics } from '../src/observability/metrics';
import type { AccountMailDependencies } from './account-mail';

const ACTOR = 'system:invitations';
const PURPOSE = 'invitation';

interface InvitationStep {
  invitationId: string;
  workflowId: string;
}

export type ExpiryOutcome = { status: InvitationStatus } | { extendedTo: string };

/** The steps of one invitation: its link, its mails, its expiry and an operator's extension. */
export function createInvitationActivities(deps: { orm: Orm; mail: AccountMailDependencies; metrics?: Metrics }) {
  const tokenOf = (invitationId: string, issueKey: string) => deriveLinkToken(deps.mail.linkSecret, PURPOSE, invitationId, issueKey);

  return {
    /** The invitation's link, valid until the invitation expires; nothing for one no longer pending. */
    async issueInvitationLink(input: InvitationStep & { issueKey: string }): Promise<InvitationStatus> {
      return deps.orm.em.fork().transactional(async (em) => {
        const [row] = await em.execute<Array<{ status: InvitationStatus; tenant_id: string; expires_at: Date }>>(
          'select status, tenant_id, expires_at from invitation where id = ? for update',
          [input.invitationId],
        );
        if (!row) return 'revoked';
        if (row.status !== 'pending') return row.status;
        await issueLinkToken(em, {
          purpose: PURPOSE,
          subjectId: input.invitationId,
          tenantId: row.tenant_id,
          issueKey: input.issueKey,
          tokenHash: tokenOf(input.invitationId, input.issueKey).hash,
          expiresAt: new Date(row.expires_at),
        });
        return 'pending';
      });
    },

    async sendInvitationMail(input: InvitationStep & { issueKey: string; reminder: boolean; deliveryKey: string }): Promise<DeliveryOutcome | 'skipped'> {
      const { token, hash } = tokenOf(input.invitationId, input.issueKey);
      const prepared = await deps.orm.em.fork().transactional(async (em) => {
        const link = await linkTokenToSend(em, { purpose: PURPOSE, subjectId: input.invitationId, issueKey: input.issueKey, tokenHash: hash });
        if (link.kind !== 'live') return undefined;
        const [row] = await em.execute<Array<{ email: string; role: MembershipRole; status: InvitationStatus; expires_at: Date; tenant_id: string; tenant_name: string; inviter: string | null }>>(
          `select i.email, i.role, i.status, i.expires_at, i.tenant_id, t.name as tenant_name, u.email as inviter
             from invitation i join tenant t on t.id = i.tenant_id
             left join app_user u on i.invited_by = 'user:' || u.id::text
            where i.id = ?`,
          [input.invitationId],
        );
        return row?.status === 'pending' ? row : undefined;
      });
      if (!prepared) return 'skipped';
      // An unverified tenant's invitation goes out once (rationed when it was made); a reminder would be a second mail
      // to someone who never asked for one, from a sender nobody has vouched for.
      if (input.reminder && !(await mayMailUnasked(deps.orm.em.fork(), prepared.tenant_id))) {
        deps.metrics?.mails.inc({ kind: 'invitation_reminder', outcome: 'withheld' });
        return 'skipped';
      }
      return deliver({ orm: deps.orm, mailer: deps.mail.mailer, metrics: deps.metrics }, {
        deliveryKey: input.deliveryKey,
        kind: input.reminder ? 'invitation_reminder' : 'invitation',
        tenantId: prepared.tenant_id,
        workflowId: input.workflowId,
        mail: invitationMail(deps.mail.branding, {
          to: prepared.email,
          tenantName: prepared.tenant_name,
          role: prepared.role,
          invitedBy: prepared.inviter ?? `An administrator of ${prepared.tenant_name}`,
          token,
          expiresAt: new Date(prepared.expires_at),
          reminder: input.reminder,
        }),
      });
    },

    /**
     * The invitation's time is up as the workflow counts it: it expires (its seat is free, its link dead), unless it
     * was settled meanwhile or its expiry was moved later (then the workflow waits for the new one).
     */
    async expireInvitation(input: InvitationStep & { expiresAt: string }): Promise<ExpiryOutcome> {
      return deps.orm.em.fork().transactional(async (em): Promise<ExpiryOutcome> => {
        const [row] = await em.execute<Array<{ status: InvitationStatus; tenant_id: string; expires_at: Date }>>(
          'select status, tenant_id, expires_at from invitation where id = ? for update',
          [input.invitationId],
        );
        if (!row) return { status: 'revoked' };
        if (row.status !== 'pending') return { status: row.status };
        if (new Date(row.expires_at).getTime() > Date.parse(input.expiresAt)) return { extendedTo: new Date(row.expires_at).toISOString() };
        await em.execute(`update invitation set status = 'expired', updated_at = now() where id = ?`, [input.invitationId], 'run');
        await withdrawLinkToken(em, PURPOSE, input.invitationId);
        await recordAudit(em, {
          actor: ACTOR,
          action: 'invitation.expired',
          entityType: 'invitation',
          entityId: input.invitationId,
          tenantId: row.tenant_id,
          fromState: 'pending',
          toState: 'expired',
          correlationId: input.workflowId,
          idempotencyKey: `invitation:${input.invitationId}:expired`,
        });
        return { status: 'expired' };
      });
    },

    /** An operator gives a pending invitation more time: the invitation and its link both. */
    async extendInvitation(input: InvitationStep & { expiresAt: string; actor: string; reason: string; extensionKey: string }): Promise<InvitationStatus> {
      return deps.orm.em.fork().transactional(async (em) => {
        const [row] = await em.execute<Array<{ status: InvitationStatus; tenant_id: string; expires_at: Date }>>(
          'select status, tenant_id, expires_at from invitation where id = ? for update',
          [input.invitationId],
        );
        if (!row) return 'revoked';
        if (row.status !== 'pending') return row.status;
        await em.execute('update invitation set expires_at = ?, updated_at = now() where id = ?', [new Date(input.expiresAt), input.invitationId], 'run');
        await em.execute(`update link_token set expires_at = ? where purpose = ? and subject_id = ?`, [new Date(input.expiresAt), PURPOSE, input.invitationId], 'run');
        await recordAudit(em, {
          actor: input.actor,
          action: 'invitation.extended',
          entityType: 'invitation',
          entityId: input.invitationId,
          tenantId: row.tenant_id,
          reason: input.reason,
          correlationId: input.workflowId,
          idempotencyKey: `invitation:${input.invitationId}:extended:${input.extensionKey}`,
          details: { from: new Date(row.expires_at).toISOString(), to: input.expiresAt },
        });
        return 'pending';
      });
    },
  };
}

export type InvitationActivities = ReturnType<typeof createInvitationActivities>;
