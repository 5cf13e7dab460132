import { EntitySchema } from '@mikro-orm/core';
import { RATIONED_MAIL_KINDS, type RationedMailKind } from '../../domain/mail-ration';

/** One mail a tenant was allowed to send to a recipient; written only by src/db/mail-ration.ts, with the send it allows. */
export class MailRationEntry {
  id!: string;
  tenantId!: string;
  /** Lower-cased, like invitation.email. */
  recipient!: string;
  kind!: RationedMailKind;
  takenAt!: Date;
}

export const MailRationEntrySchema = new EntitySchema<MailRationEntry>({
  class: MailRationEntry,
  tableName: 'mail_ration_entry',
  indexes: [
    { name: 'mail_ration_entry_tenant_index', properties: ['tenantId', 'takenAt'] },
    { name: 'mail_ration_entry_recipient_index', properties: ['recipient', 'takenAt'] },
    { name: 'mail_ration_entry_taken_at_index', properties: ['takenAt'] },
  ],
  properties: {
    id: { type: 'uuid', primary: true },
    tenantId: { type: 'uuid' },
    recipient: { type: 'string', length: 320 },
    kind: { enum: true, items: () => [...RATIONED_MAIL_KINDS] },
    takenAt: { type: 'datetime' },
  },
});
