import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { POLICY_RULE_PARAMS, governsExecution, runPolicyFromRules, type PolicyRuleName, type PolicyRuleParams, type RunPolicy } from '../domain/run-policy';

export interface ActivePolicy {
  policy: RunPolicy;
  /** Changes whenever an active rule is added, removed or re-parameterised: the mid-run check compares it. */
  fingerprint: string;
}

/** One stored rule, active or switched off, as the policy API shows it. */
export interface StoredPolicyRule {
  rule: PolicyRuleName;
  params: Record<string, unknown>;
  active: boolean;
  /** Counts the rule's changes; the API's ETag. */
  version: number;
  updatedBy: string | null;
  updatedAt: Date;
}

interface PolicyRuleRow {
  rule: PolicyRuleName;
  params: Record<string, unknown>;
  active: boolean;
  version: number;
  updated_by: string | null;
  updated_at: Date | string;
}

const COLUMNS = 'rule, params, active, version, updated_by, updated_at';
const stored = (row: PolicyRuleRow): StoredPolicyRule => ({
  rule: row.rule,
  params: row.params,
  active: row.active,
  version: row.version,
  updatedBy: row.updated_by,
  updatedAt: new Date(row.updated_at),
});

/**
 * The fingerprint of active rules that govern what runs do, ordered by name; jsonb normalises key order, so the same
 * rules give the same one. Who may decide a run is read at the decision instead, so it is not part of it.
 */
export function policyFingerprint(activeRules: Array<{ rule: string; params: unknown }>): string {
  const governing = activeRules.filter((row) => governsExecution(row.rule));
  return createHash('sha256').update(JSON.stringify(governing.map((row) => [row.rule, row.params]))).digest('hex').slice(0, 16);
}

/**
 * The tenant's active rules, share-locked for the caller's transaction so a rule cannot change under a step that
 * already checked it.
 */
export async function readActivePolicy(em: EntityManager, tenantId: string): Promise<ActivePolicy> {
  const rows = await em.execute<Array<{ rule: string; params: unknown }>>(
    `select rule, params from policy_rule where tenant_id = ? and active order by rule for share`,
    [tenantId],
  );
  return activePolicyOf(rows);
}

/** The policy and fingerprint of a tenant's active rules, ordered by name as readActivePolicy reads them. */
export const activePolicyOf = (rows: Array<{ rule: string; params: unknown }>): ActivePolicy => ({ policy: runPolicyFromRules(rows), fingerprint: policyFingerprint(rows) });

/** Every rule the tenant ever set, switched-off ones included (they keep their parameters and version). */
export async function listPolicyRules(em: EntityManager, tenantId: string): Promise<StoredPolicyRule[]> {
  const rows = await em.execute<PolicyRuleRow[]>(`select ${COLUMNS} from policy_rule where tenant_id = ? order by rule`, [tenantId]);
  return rows.map(stored);
}

/** One rule, row-locked for the caller's transaction when `lock` is set: a change waits for steps that read it. */
export async function findPolicyRule(em: EntityManager, tenantId: string, rule: PolicyRuleName, options: { lock?: boolean } = {}): Promise<StoredPolicyRule | undefined> {
  const rows = await em.execute<PolicyRuleRow[]>(`select ${COLUMNS} from policy_rule where tenant_id = ? and rule = ?${options.lock ? ' for update' : ''}`, [tenantId, rule]);
  return rows[0] && stored(rows[0]);
}

/**
 * Creates or replaces one rule and switches it on, one version up; its params are validated here so a bad row never
 * reaches a run.
 */
export async function setPolicyRule<Name extends PolicyRuleName>(
  em: EntityManager,
  tenantId: string,
  rule: Name,
  params: PolicyRuleParams<Name>,
  updatedBy: string | null = null,
): Promise<StoredPolicyRule> {
  const parsed = POLICY_RULE_PARAMS[rule].parse(params);
  const rows = await em.execute<PolicyRuleRow[]>(
    `insert into policy_rule (tenant_id, rule, params, active, version, updated_by, created_at, updated_at) values (?, ?, ?::jsonb, true, 1, ?, now(), now())
       on conflict (tenant_id, rule) do update set params = excluded.params, active = true, version = policy_rule.version + 1,
         updated_by = excluded.updated_by, updated_at = now()
       returning ${COLUMNS}`,
    [tenantId, rule, JSON.stringify(parsed), updatedBy],
  );
  return stored(rows[0]!);
}

/** Switches a rule off, one version up; undefined when it is not on (nothing changed). */
export async function deactivatePolicyRule(em: EntityManager, tenantId: string, rule: PolicyRuleName, updatedBy: string | null = null): Promise<StoredPolicyRule | undefined> {
  const rows = await em.execute<PolicyRuleRow[]>(
    `update policy_rule set active = false, version = version + 1, updated_by = ?, updated_at = now() where tenant_id = ? and rule = ? and active
       returning ${COLUMNS}`,
    [updatedBy, tenantId, rule],
  );
  return rows[0] && stored(rows[0]);
}
