import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { emailVerifiedSignal, resendVerificationUpdate, type EmailVerificationSettings, type EmailVerificationView } from '../../contracts/accounts';
import { secretHash } from '../../auth/secret-hash';
import { recordAudit } from '../../db/audit';
import { consumeLinkToken, findLiveLinkToken } from '../../db/link-tokens';
import type { Orm } from '../../db/orm';
import type { EmailVerificationState } from '../../domain/email-verification';
import { isLinkTokenShaped } from '../../domain/link-token';
import { TENANT_ID } from '../../temporal/search-attributes';
import { emailVerificationWorkflowId } from '../../temporal/workflow-ids';

export type VerifyOutcome = { kind: 'verified'; tenantId: string; verifiedAt: string } | { kind: 'invalid' };
export type ResendOutcome = { kind: 'sent'; view: EmailVerificationView } | { kind: 'not_pending'; state: EmailVerificationState | 'missing' } | { kind: 'refused'; message: string };

export interface TenantVerification {
  state: EmailVerificationState;
  verifiedAt: string | null;
  /** When an unverified signup is offboarded. */
  deadline: string | null;
}

/** A signup's email verification as the API sees it: spend a link, send a fresh one, read where it stands. */
export function createVerificationService(deps: { client: Client; orm: Orm; taskQueue: string; settings: EmailVerificationSettings; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());

  return {
    /** Spends the link: the tenant and its owner's address are verified in one transaction, then the workflow is told. */
    async verify(token: string): Promise<VerifyOutcome> {
      if (!isLinkTokenShaped(token)) return { kind: 'invalid' };
      const outcome = await deps.orm.em.fork().transactional(async (em): Promise<VerifyOutcome> => {
        const holder = await findLiveLinkToken(em, 'email_verification', secretHash(token), now());
        if (!holder) return { kind: 'invalid' };
        const tenantId = holder.subjectId;
        const at = now();
        await consumeLinkToken(em, 'email_verification', tenantId, at);
        const verified = await em.execute<{ affectedRows: number }>(
          `update tenant set email_verification = 'verified', email_verified_at = ?, verification_deadline = null where id = ? and email_verification = 'pending'`,
          [at, tenantId],
          'run',
        );
        if (verified.affectedRows === 0) return { kind: 'invalid' };
        await em.execute(
          `update app_user set email_verified_at = coalesce(email_verified_at, ?) where created_by_tenant_id = ? and id in (select user_id from tenant_membership where tenant_id = ? and role = 'owner')`,
          [at, tenantId, tenantId],
          'run',
        );
        await recordAudit(em, {
          actor: 'system:verification',
          action: 'verification.verified',
          entityType: 'tenant',
          entityId: tenantId,
          tenantId,
          fromState: 'pending',
          toState: 'verified',
          correlationId: emailVerificationWorkflowId(tenantId),
          idempotencyKey: `${tenantId}:verification.verified`,
        });
        return { kind: 'verified', tenantId, verifiedAt: at.toISOString() };
      });
      if (outcome.kind === 'verified') {
        try {
          await deps.client.workflow.getHandle(emailVerificationWorkflowId(outcome.tenantId)).signal(emailVerifiedSignal);
        } catch (error) {
          // Its workflow already ended: nothing is waiting to remind or offboard.
          if (!(error instanceof WorkflowNotFoundError)) throw error;
        }
      }
      return outcome;
    },

    /**
     * A fresh link for a pending signup (the previous one stops working). A verification workflow that is missing (closed
     * by hand) is started again from what Postgres holds: it keeps the original deadline.
     */
    async resend(tenantId: string, actor: string, reason?: string): Promise<ResendOutcome> {
      const state = await this.status(tenantId);
      if (!state) return { kind: 'not_pending', state: 'missing' };
      if (state.state !== 'pending') return { kind: 'not_pending', state: state.state };
      // A signup being offboarded (abandoned, or deleted by an operator) gets no more links.
      const [tenant] = await deps.orm.em.fork().execute<Array<{ status: string }>>('select status from tenant where id = ?', [tenantId]);
      if (tenant?.status !== 'active' && tenant?.status !== 'suspended') return { kind: 'refused', message: `the tenant is ${tenant?.status ?? 'gone'}` };
      const handle = await deps.client.workflow.start('emailVerification', {
        taskQueue: deps.taskQueue,
        workflowId: emailVerificationWorkflowId(tenantId),
        args: [{ tenantId, ...deps.settings }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        typedSearchAttributes: [{ key: TENANT_ID, value: tenantId }],
        staticSummary: `Email verification of tenant ${tenantId}`,
      });
      try {
        return { kind: 'sent', view: await handle.executeUpdate(resendVerificationUpdate, { args: [{ actor, ...(reason ? { reason } : {}) }] }) };
      } catch (error) {
        if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) return { kind: 'refused', message: error.cause.message };
        throw error;
      }
    },

    async status(tenantId: string): Promise<TenantVerification | undefined> {
      const [row] = await deps.orm.em
        .fork()
        .execute<Array<{ email_verification: EmailVerificationState; email_verified_at: Date | null; verification_deadline: Date | null }>>(
          'select email_verification, email_verified_at, verification_deadline from tenant where id = ?',
          [tenantId],
        );
      if (!row) return undefined;
      const iso = (at: Date | null) => (at === null ? null : new Date(at).toISOString());
      return { state: row.email_verification, verifiedAt: iso(row.email_verified_at), deadline: iso(row.verification_deadline) };
    },
  };
}

export type VerificationService = ReturnType<typeof createVerificationService>;
