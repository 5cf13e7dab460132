import { deriveLinkToken } from '../src/auth/link-token';
import { issueLinkToken, linkTokenToSend, withdrawLinkToken } from '../src/db/link-tokens';
import type { Orm } from '../src/db/orm';
import { deliver, type DeliveryOutcome } from '../src/mail/delivery';
import { passwordResetMail } from '../src/mail/templates';
import type { Metrics } from '../src/observability/metrics';
import type { AccountMailDependencies } from './account-mail';

const PURPOSE = 'password_reset';

interface ResetStep {
  workflowId: string;
  issueKey: string;
}

/**
 * A password reset's link: issued for the account of an address, when there is one, and mailed to it. The workflow
 * runs for every request, known address or not; only these activities look, so the API answers all alike.
 */
export function createPasswordResetActivities(deps: { orm: Orm; mail: AccountMailDependencies; metrics?: Metrics }) {
  const tokenOf = (userId: string, issueKey: string) => deriveLinkToken(deps.mail.linkSecret, PURPOSE, userId, issueKey);

  return {
    /** The account's one live reset link (an earlier one stops working), or null when no account has this address. */
    async issuePasswordResetLink(input: ResetStep & { email: string; expiresAt: string }): Promise<{ userId: string } | null> {
      return deps.orm.em.fork().transactional(async (em) => {
        const [user] = await em.execute<Array<{ id: string }>>('select id from app_user where email = ?', [input.email.toLowerCase()]);
        if (!user) return null;
        await issueLinkToken(em, { purpose: PURPOSE, subjectId: user.id, tenantId: null, issueKey: input.issueKey, tokenHash: tokenOf(user.id, input.issueKey).hash, expiresAt: new Date(input.expiresAt) });
        return { userId: user.id };
      });
    },

    async sendPasswordResetMail(input: ResetStep & { userId: string; deliveryKey: string }): Promise<DeliveryOutcome | 'skipped'> {
      const { token, hash } = tokenOf(input.userId, input.issueKey);
      const prepared = await deps.orm.em.fork().transactional(async (em) => {
        const link = await linkTokenToSend(em, { purpose: PURPOSE, subjectId: input.userId, issueKey: input.issueKey, tokenHash: hash });
        if (link.kind !== 'live') return undefined;
        const [user] = await em.execute<Array<{ email: string }>>('select email from app_user where id = ?', [input.userId]);
        return user ? { email: user.email, expiresAt: link.expiresAt } : undefined;
      });
      if (!prepared) return 'skipped';
      return deliver({ orm: deps.orm, mailer: deps.mail.mailer, metrics: deps.metrics }, {
        deliveryKey: input.deliveryKey,
        kind: 'password_reset',
        tenantId: null,
        workflowId: input.workflowId,
        mail: passwordResetMail(deps.mail.branding, { to: prepared.email, token, expiresAt: prepared.expiresAt }),
      });
    },

    /** The link's 30 minutes are over. */
    async expirePasswordResetLink(input: ResetStep & { userId: string }): Promise<void> {
      await deps.orm.em.fork().transactional((em) => withdrawLinkToken(em, PURPOSE, input.userId, input.issueKey));
    },
  };
}

export type PasswordResetActivities = ReturnType<typeof createPasswordResetActivities>;
