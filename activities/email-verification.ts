import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { terminateTenantUpdate } from '../src/contracts/lifecycle';
import { deriveLinkToken } from '../src/auth/link-token';
import { recordAudit } from '../src/db/audit';
import { issueLinkToken, linkTokenToSend, withdrawLinkToken } from '../src/db/link-tokens';
import type { Orm } from '../src/db/orm';
import { DAY_MS } from '../src/domain/duration';
import type { EmailVerificationState } from '../src/domain/email-verification';
import { DEFAULT_RETENTION_DAYS } from '../src/domain/lifecycle';
import type { TenantStatus } from '../src/domain/tenant-status';
import { deliver, type DeliveryOutcome } from '../src/mail/delivery';
import { verificationMail } from '../src/mail/templates';
import type { Metrics } from '../src/observability/metrics';
import { createLifecycleStarter } from '../src/services/lifecycle-starter';
import type { AccountMailDependencies } from './account-mail';

const ACTOR = 'system:verification';
const PURPOSE = 'email_verification';

interface VerificationStep {
  tenantId: string;
  workflowId: string;
}

export type VerificationState = { state: EmailVerificationState; deadline: string | null };

/**
 * The steps of a signup's email verification. The token is derived from (tenant, issue key), so issuing and sending
 * are separate activities: a worker that dies between them leaves a link the retried send rebuilds, never a second one.
 */
export function createEmailVerificationActivities(deps: { orm: Orm; mail: AccountMailDependencies; client: Client; metrics?: Metrics }) {
  const tokenOf = (tenantId: string, issueKey: string) => deriveLinkToken(deps.mail.linkSecret, PURPOSE, tenantId, issueKey);

  async function stateOf(tenantId: string): Promise<{ state: EmailVerificationState; deadline: Date | null; status: TenantStatus; slug: string } | undefined> {
    const [row] = await deps.orm.em
      .fork()
      .execute<Array<{ email_verification: EmailVerificationState; verification_deadline: Date | null; status: TenantStatus; slug: string }>>(
        'select email_verification, verification_deadline, status, slug from tenant where id = ?',
        [tenantId],
      );
    return row ? { state: row.email_verification, deadline: row.verification_deadline, status: row.status, slug: row.slug } : undefined;
  }

  return {
    /** Marks the tenant unverified with its deadline, once: a workflow started again keeps the first deadline. */
    async openEmailVerification(input: VerificationStep & { abandonAfterDays: number; startedAt: string }): Promise<VerificationState> {
      return deps.orm.em.fork().transactional(async (em) => {
        const deadline = new Date(Date.parse(input.startedAt) + input.abandonAfterDays * DAY_MS);
        await em.execute(
          `update tenant set email_verification = 'pending', verification_deadline = ? where id = ? and email_verification = 'not_required' and status <> 'terminated'`,
          [deadline, input.tenantId],
          'run',
        );
        const [row] = await em.execute<Array<{ email_verification: EmailVerificationState; verification_deadline: Date | null }>>(
          'select email_verification, verification_deadline from tenant where id = ?',
          [input.tenantId],
        );
        if (!row) throw ApplicationFailure.create({ type: 'TenantMissing', message: 'the tenant does not exist', nonRetryable: true });
        await recordAudit(em, {
          actor: ACTOR,
          action: 'verification.opened',
          entityType: 'tenant',
          entityId: input.tenantId,
          tenantId: input.tenantId,
          toState: row.email_verification,
          correlationId: input.workflowId,
          idempotencyKey: `${input.tenantId}:verification.opened`,
          details: { deadline: row.verification_deadline },
        });
        return { state: row.email_verification, deadline: row.verification_deadline ? new Date(row.verification_deadline).toISOString() : null };
      });
    },

    /** Makes this issue's link the tenant's one live link (any earlier one stops working); nothing once verified. */
    async issueVerificationLink(input: VerificationStep & { issueKey: string; expiresAt: string; actor: string; reason?: string }): Promise<EmailVerificationState> {
      return deps.orm.em.fork().transactional(async (em) => {
        const [row] = await em.execute<Array<{ email_verification: EmailVerificationState }>>('select email_verification from tenant where id = ? for update', [input.tenantId]);
        if (!row || row.email_verification !== 'pending') return row?.email_verification ?? 'not_required';
        await issueLinkToken(em, { purpose: PURPOSE, subjectId: input.tenantId, tenantId: input.tenantId, issueKey: input.issueKey, tokenHash: tokenOf(input.tenantId, input.issueKey).hash, expiresAt: new Date(input.expiresAt) });
        await recordAudit(em, {
          actor: input.actor,
          action: 'verification.link_issued',
          entityType: 'tenant',
          entityId: input.tenantId,
          tenantId: input.tenantId,
          reason: input.reason ?? null,
          correlationId: input.workflowId,
          idempotencyKey: `${input.tenantId}:verification.link:${input.issueKey}`,
          details: { expiresAt: input.expiresAt },
        });
        return 'pending';
      });
    },

    /** Mails the issue's link to the signup's owner, unless it was superseded, used or withdrawn meanwhile. */
    async sendVerificationMail(input: VerificationStep & { issueKey: string; reminder: boolean; deliveryKey: string }): Promise<DeliveryOutcome | 'skipped'> {
      const { token, hash } = tokenOf(input.tenantId, input.issueKey);
      const prepared = await deps.orm.em.fork().transactional(async (em) => {
        const link = await linkTokenToSend(em, { purpose: PURPOSE, subjectId: input.tenantId, issueKey: input.issueKey, tokenHash: hash });
        if (link.kind !== 'live') return undefined;
        const [owner] = await em.execute<Array<{ email: string; name: string; verification_deadline: Date | null }>>(
          `select u.email, t.name, t.verification_deadline from tenant t join tenant_membership m on m.tenant_id = t.id and m.role = 'owner'
             join app_user u on u.id = m.user_id and u.created_by_tenant_id = t.id where t.id = ? limit 1`,
          [input.tenantId],
        );
        return owner ? { ...owner, expiresAt: link.expiresAt } : undefined;
      });
      if (!prepared) return 'skipped';
      const mail = verificationMail(deps.mail.branding, {
        to: prepared.email,
        tenantName: prepared.name,
        token,
        expiresAt: prepared.expiresAt,
        deadline: new Date(prepared.verification_deadline ?? prepared.expiresAt),
        reminder: input.reminder,
      });
      return deliver({ orm: deps.orm, mailer: deps.mail.mailer, metrics: deps.metrics }, {
        deliveryKey: input.deliveryKey,
        kind: input.reminder ? 'verification_reminder' : 'email_verification',
        tenantId: input.tenantId,
        workflowId: input.workflowId,
        mail,
      });
    },

    /** The link's 24 hours are over: it stops working even if the database clock disagrees with the workflow's. */
    async expireVerificationLink(input: VerificationStep & { issueKey: string }): Promise<void> {
      await deps.orm.em.fork().transactional(async (em) => {
        if ((await withdrawLinkToken(em, PURPOSE, input.tenantId, input.issueKey)) === 0) return;
        await recordAudit(em, {
          actor: ACTOR,
          action: 'verification.link_expired',
          entityType: 'tenant',
          entityId: input.tenantId,
          tenantId: input.tenantId,
          correlationId: input.workflowId,
          idempotencyKey: `${input.tenantId}:verification.link_expired:${input.issueKey}`,
        });
      });
    },

    /**
     * Nobody verified the signup in time: the tenant is terminated through its lifecycle workflow, the same path an
     * operator's terminate takes (offboarding: credentials, runs, archive, purge). Audited before the update, so the
     * trail says why. A tenant verified, already offboarding or gone is left alone.
     */
    async offboardUnverifiedSignup(input: VerificationStep): Promise<'offboarding' | 'verified' | 'gone'> {
      const current = await stateOf(input.tenantId);
      if (!current || current.status === 'terminated' || current.status === 'provisioning') return 'gone';
      if (current.state !== 'pending') return 'verified';
      await deps.orm.em.fork().transactional((em) =>
        recordAudit(em, {
          actor: ACTOR,
          action: 'verification.signup_abandoned',
          entityType: 'tenant',
          entityId: input.tenantId,
          tenantId: input.tenantId,
          reason: 'the signup was not verified before its deadline',
          correlationId: input.workflowId,
          idempotencyKey: `${input.tenantId}:verification.signup_abandoned`,
          details: { deadline: current.deadline },
        }),
      );
      const starter = createLifecycleStarter({ client: deps.client, orm: deps.orm });
      const handle = await starter.start({ id: input.tenantId, slug: current.slug, status: current.status }, { taskQueue: Context.current().info.taskQueue, retentionDays: DEFAULT_RETENTION_DAYS });
      try {
        await handle.executeUpdate(terminateTenantUpdate, { args: [{ actor: ACTOR, reason: 'the signup was not verified before its deadline' }] });
      } catch (error) {
        // Refused because offboarding is already under way or done (a retry after the update went through): fine.
        if (!(error instanceof WorkflowUpdateFailedError)) throw error;
      }
      return 'offboarding';
    },
  };
}

export type EmailVerificationActivities = ReturnType<typeof createEmailVerificationActivities>;
