import { EntitySchema } from '@mikro-orm/core';
import { POLICY_RULE_NAMES, type PolicyRuleName } from '../../domain/run-policy';
import { Tenant } from './tenant';

/**
 * One row per rule per tenant; `active` switches it without losing its parameters. `version` counts the rule's
 * changes (its ETag in the policy API), `updatedBy` is the actor of the last one.
 */
export class PolicyRule {
  id!: string;
  tenant!: Tenant;
  rule!: PolicyRuleName;
  params!: Record<string, unknown>;
  active = true;
  version = 1;
  updatedBy?: string | null;
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
    version: { type: 'integer', default: 1 },
    updatedBy: { type: 'text', nullable: true },
    createdAt: { type: 'datetime', onCreate: () => new Date(), defaultRaw: 'now()' },
    updatedAt: { type: 'datetime', onCreate: () => new Date(), defaultRaw: 'now()', onUpdate: () => new Date() },
  },
});
