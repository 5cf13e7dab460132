import { mailSentSince } from '../src/db/mail-ledger';
import type { Orm } from '../src/db/orm';
import { DAY_MS } from '../src/domain/duration';
import { deliver, type DeliveryOutcome } from '../src/mail/delivery';
import { signupAttemptMail } from '../src/mail/templates';
import type { Metrics } from '../src/observability/metrics';
import type { AccountMailDependencies } from './account-mail';

/**
 * Tells an address's owner that someone signed up with it. At most one notice a day per address, so a stranger who
 * repeats the signup cannot turn the notice into a mail bomb.
 */
export function createSignupNoticeActivities(deps: { orm: Orm; mail: AccountMailDependencies; metrics?: Metrics; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  return {
    async sendSignupAttemptNotice(input: { email: string; workflowId: string; deliveryKey: string }): Promise<DeliveryOutcome | 'skipped'> {
      const recipient = input.email.toLowerCase();
      const noticedToday = await mailSentSince(deps.orm.em.fork(), { kind: 'signup_attempt', recipient, since: new Date(now().getTime() - DAY_MS) });
      if (noticedToday) return 'skipped';
      return deliver({ orm: deps.orm, mailer: deps.mail.mailer, metrics: deps.metrics }, {
        deliveryKey: input.deliveryKey,
        kind: 'signup_attempt',
        tenantId: null,
        workflowId: input.workflowId,
        mail: signupAttemptMail(deps.mail.branding, { to: recipient }),
      });
    },
  };
}

export type SignupNoticeActivities = ReturnType<typeof createSignupNoticeActivities>;
