import { EntitySchema } from '@mikro-orm/core';
import { PLANS, SUBSCRIPTION_STATES, type Plan, type SubscriptionState } from '../../domain/tenant-status';
import { Tenant } from './tenant';

/** One billing account per tenant: the tenant is its primary key, so opening it twice is impossible. */
export class BillingAccount {
  tenant!: Tenant;
  plan!: Plan;
  subscriptionState!: SubscriptionState;
  trialEndsAt?: Date | null;
  createdAt: Date = new Date();
  updatedAt: Date = new Date();
}

export const BillingAccountSchema = new EntitySchema<BillingAccount>({
  class: BillingAccount,
  tableName: 'billing_account',
  properties: {
    tenant: { kind: '1:1', entity: () => Tenant, primary: true, owner: true, deleteRule: 'cascade' },
    plan: { enum: true, items: () => [...PLANS] },
    subscriptionState: { enum: true, items: () => [...SUBSCRIPTION_STATES] },
    trialEndsAt: { type: 'datetime', nullable: true },
    createdAt: { type: 'datetime', onCreate: () => new Date() },
    updatedAt: { type: 'datetime', onCreate: () => new Date(), onUpdate: () => new Date() },
  },
});
