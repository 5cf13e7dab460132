import { EntitySchema } from '@mikro-orm/core';
import { MAIL_DELIVERY_STATUSES, MAIL_KINDS, type MailDeliveryStatus, type MailKind } from '../../domain/mail';

/**
 * Every mail the product sent or could not send, by a key its workflow derives (one row per mail, whatever the
 * retries). `undelivered` rows are what operators look at: a mail is never lost without one.
 */
export class MailDelivery {
  id!: string;
  deliveryKey!: string;
  kind!: MailKind;
  recipient!: string;
  tenantId?: string | null;
  workflowId!: string;
  status!: MailDeliveryStatus;
  attempts = 0;
  lastError?: string | null;
  createdAt: Date = new Date();
  updatedAt: Date = new Date();
}

export const MailDeliverySchema = new EntitySchema<MailDelivery>({
  class: MailDelivery,
  tableName: 'mail_delivery',
  indexes: [{ name: 'mail_delivery_status_index', properties: ['status', 'createdAt'] }],
  properties: {
    id: { type: 'uuid', primary: true },
    deliveryKey: { type: 'string', length: 300, unique: 'mail_delivery_key_unique' },
    kind: { enum: true, items: () => [...MAIL_KINDS] },
    recipient: { type: 'string', length: 320 },
    tenantId: { type: 'uuid', nullable: true, index: 'mail_delivery_tenant_index' },
    workflowId: { type: 'string', length: 200 },
    status: { enum: true, items: () => [...MAIL_DELIVERY_STATUSES] },
    attempts: { type: 'integer', default: 0 },
    lastError: { type: 'text', nullable: true },
    createdAt: { type: 'datetime', onCreate: () => new Date(), defaultRaw: 'now()' },
    updatedAt: { type: 'datetime', onCreate: () => new Date(), defaultRaw: 'now()', onUpdate: () => new Date() },
  },
});
