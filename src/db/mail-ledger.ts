import type { EntityManager } from '@mikro-orm/postgresql';
import type { MailKind } from '../domain/mail';

/** Whether a mail of this kind went to the address since the moment: lets a notice go out at most once per period. */
export async function mailSentSince(em: EntityManager, input: { kind: MailKind; recipient: string; since: Date }): Promise<boolean> {
  const rows = await em.execute<Array<{ sent: boolean }>>(
    `select exists (select 1 from mail_delivery where kind = ? and recipient = ? and status = 'sent' and created_at > ?) as sent`,
    [input.kind, input.recipient, input.since],
  );
  return rows[0]?.sent === true;
}
