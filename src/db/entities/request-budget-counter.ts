import { EntitySchema } from '@mikro-orm/core';

/** Hits of one request-budget bucket in its current window; written only by src/db/request-budgets.ts. */
export class RequestBudgetCounter {
  /** `<deployment>:<kind>:<id>`: a tenant, a credential, an operator, a client address, the anonymous ceiling. */
  bucket!: string;
  hits!: number;
  windowEndsAt!: Date;
}

export const RequestBudgetCounterSchema = new EntitySchema<RequestBudgetCounter>({
  class: RequestBudgetCounter,
  tableName: 'request_budget_counter',
  indexes: [{ name: 'request_budget_counter_window_ends_at_index', properties: ['windowEndsAt'] }],
  properties: {
    bucket: { type: 'text', primary: true },
    hits: { type: 'integer' },
    windowEndsAt: { type: 'datetime' },
  },
});
