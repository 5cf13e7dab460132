import type { Orm } from '../src/db/orm';
import type { UndeliveredMail } from '../src/contracts/accounts';
import { recordAudit } from '../src/db/audit';
import type { Mailer } from '../src/mail/mailer';
import type { MailBranding } from '../src/mail/templates';
import type { Metrics } from '../src/observability/metrics';

/** What the account workflows' activities need to send links: a mailer, the product's words and the link secret. */
export interface AccountMailDependencies {
  mailer: Mailer;
  branding: MailBranding;
  /** Derives each link's token (src/auth/link-token.ts); only the workers hold it. */
  linkSecret: string;
}

/**
 * A mail whose retries are spent is put on the operators' list (GET /api/v1/admin/mail/undelivered) and in the
 * tenant's audit trail: it is never lost without a trace.
 */
export function createAccountMailActivities(deps: { orm: Orm; metrics?: Metrics }) {
  return {
    async recordUndeliveredMail(input: UndeliveredMail): Promise<void> {
      await deps.orm.em.fork().transactional(async (em) => {
        const changed = await em.execute<{ affectedRows: number }>(
          `update mail_delivery set status = 'undelivered', last_error = ?, updated_at = now() where delivery_key = ? and status <> 'undelivered'`,
          [input.cause.slice(0, 1000), input.deliveryKey],
          'run',
        );
        if (changed.affectedRows === 0) return;
        deps.metrics?.mails.inc({ kind: input.kind, outcome: 'undelivered' });
        if (input.tenantId) {
          await recordAudit(em, {
            actor: 'system:mail',
            action: 'mail.undelivered',
            entityType: 'mail',
            entityId: input.deliveryKey,
            tenantId: input.tenantId,
            reason: input.cause,
            correlationId: input.workflowId,
            idempotencyKey: `mail:${input.deliveryKey}:undelivered`,
            details: { kind: input.kind },
          });
        }
      });
    },
  };
}

export type AccountMailActivities = ReturnType<typeof createAccountMailActivities>;
