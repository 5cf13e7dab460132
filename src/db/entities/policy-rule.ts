import { EntitySchema } from '@mikro-orm/core';
import { POLICY_RULE_NAMES, type PolicyRuleName } from '../../domain/run-policy';
import { Tenant } from './tenant';

/** One row per rule per tenant; `active` switches it without losing its parameters. */
export class PolicyRule {
  id!: string;
  tenant!: Tenant;
  rule!: PolicyRuleName;
  params!: Record<string, unknown>;
  active = true;
  createdAt: Date = new Date();
  updatedAt: Date = new Date();
}

export const PolicyRuleSchema = new EntitySchema<PolicyRule>({
  class: PolicyRule,
  tableName: 'policy_rule',
  uniques: [{ name: 'policy_rule_tenant_rule_unique', properties: ['tenant', 'rule'] }],
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    tenant: { kind: 'm:1', entity: () => Tenant, deleteRule: 'cascade' },
    rule: { enum: true, items: () => [...POLICY_RULE_NAMES] },
    params: { type: 'json' },
    active: { type: 'boolean' },
    createdAt: { type: 'datetime', onCreate: () => new Date(), defaultRaw: 'now()' },
    updatedAt: { type: 'datetime', onCreate: () => new Date(), defaultRaw: 'now()', onUpdate: () => new Date() },
  },
});
