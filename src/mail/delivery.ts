import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { Orm } from '../db/orm';
import type { MailKind } from '../domain/mail';
import type { Metrics } from '../observability/metrics';
import { MailRefused, type Mailer, type OutgoingMail } from './mailer';

export interface Delivery {
  /** Derived by the workflow, one per mail: a retried send finds the mail it already sent. */
  deliveryKey: string;
  kind: MailKind;
  tenantId: string | null;
  workflowId: string;
  mail: OutgoingMail;
}

export type DeliveryOutcome = 'sent' | 'already_sent';

/**
 * Sends one mail and keeps its line in the mail ledger. A mail the ledger says went out is not sent again; each failed
 * attempt is counted with the server's answer, then raised for the workflow to retry (a permanent refusal, not).
 */
export async function deliver(deps: { orm: Orm; mailer: Mailer; metrics?: Metrics }, delivery: Delivery): Promise<DeliveryOutcome> {
  const em = deps.orm.em.fork();
  const [existing] = await em.execute<Array<{ status: string }>>('select status from mail_delivery where delivery_key = ?', [delivery.deliveryKey]);
  if (existing?.status === 'sent') return 'already_sent';
  const record = (status: 'sent' | 'retrying', lastError: string | null) =>
    em.execute(
      `insert into mail_delivery (id, delivery_key, kind, recipient, tenant_id, workflow_id, status, attempts, last_error, created_at, updated_at)
         values (?, ?, ?, ?, ?, ?, ?, 1, ?, now(), now())
       on conflict (delivery_key) do update set status = excluded.status, attempts = mail_delivery.attempts + 1, last_error = excluded.last_error, updated_at = now()`,
      [randomUUID(), delivery.deliveryKey, delivery.kind, delivery.mail.to, delivery.tenantId, delivery.workflowId, status, lastError],
      'run',
    );
  try {
    await deps.mailer.send(delivery.mail);
  } catch (error) {
    const refused = error instanceof MailRefused ? error : new MailRefused(String(error), false);
    await record('retrying', refused.message);
    deps.metrics?.mails.inc({ kind: delivery.kind, outcome: 'attempt_failed' });
    throw ApplicationFailure.create({ type: 'MailRefused', message: refused.message, nonRetryable: refused.permanent });
  }
  await record('sent', null);
  deps.metrics?.mails.inc({ kind: delivery.kind, outcome: 'sent' });
  return 'sent';
}
