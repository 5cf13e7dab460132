import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { POLICY_RULE_PARAMS, runPolicyFromRules, type PolicyRuleName, type PolicyRuleParams, type RunPolicy } from '../domain/run-policy';

export interface ActivePolicy {
  policy: RunPolicy;
  /** Changes whenever an active rule is added, removed or re-parameterised: the mid-run check compares it. */
  fingerprint: string;
}

/**
 * The tenant's active rules, share-locked for the caller's transaction so a rule cannot change under a step that
 * already checked it. jsonb normalises key order, so the same rules always give the same fingerprint.
 */
export async function readActivePolicy(em: EntityManager, tenantId: string): Promise<ActivePolicy> {
  const rows = await em.execute<Array<{ rule: string; params: unknown }>>(
    `select rule, params from policy_rule where tenant_id = ? and active order by rule for share`,
    [tenantId],
  );
  const fingerprint = createHash('sha256').update(JSON.stringify(rows.map((row) => [row.rule, row.params]))).digest('hex').slice(0, 16);
  return { policy: runPolicyFromRules(rows), fingerprint };
}

/** Creates or replaces one rule; its params are validated here so a bad row never reaches a run. */
export async function setPolicyRule<Name extends PolicyRuleName>(
  em: EntityManager,
  tenantId: string,
  rule: Name,
  params: PolicyRuleParams<Name>,
): Promise<void> {
  const parsed = POLICY_RULE_PARAMS[rule].parse(params);
  await em.execute(
    `insert into policy_rule (tenant_id, rule, params, active, created_at, updated_at) values (?, ?, ?::jsonb, true, now(), now())
       on conflict (tenant_id, rule) do update set params = excluded.params, active = true, updated_at = now()`,
    [tenantId, rule, JSON.stringify(parsed)],
  );
}

export async function deactivatePolicyRule(em: EntityManager, tenantId: string, rule: PolicyRuleName): Promise<void> {
  await em.execute(`update policy_rule set active = false, updated_at = now() where tenant_id = ? and rule = ?`, [tenantId, rule]);
}
