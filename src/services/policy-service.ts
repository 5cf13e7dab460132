import { isDeepStrictEqual } from 'node:util';
import type { EntityManager } from '@mikro-orm/postgresql';
import { recordAudit } from '../db/audit';
import type { Orm } from '../db/orm';
import { deactivatePolicyRule, findPolicyRule, listPolicyRules, policyFingerprint, setPolicyRule, type StoredPolicyRule } from '../db/policy-rules';
import { POLICY_RULE_PARAMS, type PolicyRuleName, type PolicyRuleParams } from '../domain/run-policy';
import type { TenantStatus } from '../domain/tenant-status';

/**
 * What the caller believed it was changing (HTTP If-Match): `*` for "the rule exists", or the versions it read. A
 * change without one is unconditional.
 */
export type VersionPrecondition = '*' | number[];

export interface PolicyRuleChange<Name extends PolicyRuleName = PolicyRuleName> {
  tenantId: string;
  rule: Name;
  params: PolicyRuleParams<Name>;
  /** The audit trail's name for whoever changes it: `user:<id>` or `operator:<name>`. */
  actor: string;
  reason?: string;
  expected?: VersionPrecondition;
}

export interface PolicyRuleRemoval {
  tenantId: string;
  rule: PolicyRuleName;
  actor: string;
  reason?: string;
  expected?: VersionPrecondition;
}

export interface TenantPolicy {
  tenantId: string;
  /** The fingerprint runs are authorised under (`run.authorized` records it): a change of it halts runs in flight. */
  fingerprint: string;
  rules: StoredPolicyRule[];
}

export type PolicyChangeOutcome =
  | { kind: 'changed' | 'unchanged'; rule: StoredPolicyRule }
  | { kind: 'rule_not_found' }
  | { kind: 'precondition_failed'; currentVersion: number | null }
  | { kind: 'tenant_not_found' }
  | { kind: 'tenant_terminated' };

type Refusal = Extract<PolicyChangeOutcome, { kind: 'precondition_failed' | 'tenant_not_found' | 'tenant_terminated' }>;

/** Policy changes of one tenant queue here, one transaction at a time, so a version check cannot race its write. */
const lockTenantPolicy = (em: EntityManager, tenantId: string) => em.execute(`select pg_advisory_xact_lock(hashtextextended(?, 0))`, [`policy:${tenantId}`]);

const snapshot = (rule: StoredPolicyRule | undefined) => (rule ? { params: rule.params, active: rule.active, version: rule.version } : null);

function preconditionHolds(expected: VersionPrecondition | undefined, current: StoredPolicyRule | undefined): boolean {
  if (expected === undefined) return true;
  if (current === undefined) return false;
  return expected === '*' || expected.includes(current.version);
}

/**
 * A tenant's run policy as a resource: tenant admins and operators read and change it here, every change one
 * transaction with its audit row (actor, before, after). Runs pick a change up through the policy fingerprint: a run
 * authorised under the old rules halts at its next step or at its governance check (PolicyChanged) and rolls back.
 */
export function createPolicyService(deps: { orm: Orm }) {
  const transaction = <T>(work: (em: EntityManager) => Promise<T>) => deps.orm.em.fork().transactional(work);

  /** Locks the tenant's policy, then checks the tenant may still have one and the caller's precondition holds. */
  async function open(em: EntityManager, tenantId: string, rule: PolicyRuleName, expected: VersionPrecondition | undefined): Promise<Refusal | { current: StoredPolicyRule | undefined }> {
    await lockTenantPolicy(em, tenantId);
    const [tenant] = await em.execute<Array<{ status: TenantStatus }>>(`select status from tenant where id = ?`, [tenantId]);
    if (!tenant) return { kind: 'tenant_not_found' };
    // Offboarding purged its rules and nothing runs any more: a rule written now would govern nothing.
    if (tenant.status === 'terminated') return { kind: 'tenant_terminated' };
    const current = await findPolicyRule(em, tenantId, rule, { lock: true });
    if (!preconditionHolds(expected, current)) return { kind: 'precondition_failed', currentVersion: current?.version ?? null };
    return { current };
  }

  async function audit(em: EntityManager, change: { tenantId: string; rule: PolicyRuleName; actor: string; reason?: string }, before: StoredPolicyRule | undefined, after: StoredPolicyRule) {
    await recordAudit(em, {
      actor: change.actor,
      action: after.active ? 'policy.rule_set' : 'policy.rule_removed',
      entityType: 'policy_rule',
      entityId: `${change.tenantId}:${change.rule}`,
      tenantId: change.tenantId,
      fromState: before ? (before.active ? 'active' : 'inactive') : null,
      toState: after.active ? 'active' : 'inactive',
      reason: change.reason ?? null,
      details: { rule: change.rule, before: snapshot(before), after: snapshot(after) },
      // One row per version: versions only go up, so each change has its own key.
      idempotencyKey: `policy_rule:${change.tenantId}:${change.rule}:v${after.version}`,
    });
  }

  return {
    /** Undefined when there is no such tenant. */
    async read(tenantId: string): Promise<TenantPolicy | undefined> {
      const em = deps.orm.em.fork();
      const [tenant] = await em.execute(`select 1 from tenant where id = ?`, [tenantId]);
      if (!tenant) return undefined;
      const rules = await listPolicyRules(em, tenantId);
      return { tenantId, fingerprint: policyFingerprint(rules.filter((rule) => rule.active)), rules };
    },

    /** Sets one rule and switches it on. The same params on a rule already on change nothing (no new version). */
    async set<Name extends PolicyRuleName>(change: PolicyRuleChange<Name>): Promise<PolicyChangeOutcome> {
      const params = POLICY_RULE_PARAMS[change.rule].parse(change.params) as PolicyRuleParams<Name>;
      return transaction(async (em): Promise<PolicyChangeOutcome> => {
        const opened = await open(em, change.tenantId, change.rule, change.expected);
        if ('kind' in opened) return opened;
        const { current } = opened;
        if (current?.active && isDeepStrictEqual(current.params, params)) return { kind: 'unchanged', rule: current };
        const after = await setPolicyRule(em, change.tenantId, change.rule, params, change.actor);
        await audit(em, change, current, after);
        return { kind: 'changed', rule: after };
      });
    },

    /** Switches a rule off, keeping its params and version history; a rule already off changes nothing. */
    async remove(removal: PolicyRuleRemoval): Promise<PolicyChangeOutcome> {
      return transaction(async (em): Promise<PolicyChangeOutcome> => {
        const opened = await open(em, removal.tenantId, removal.rule, removal.expected);
        if ('kind' in opened) return opened;
        const { current } = opened;
        if (!current) return { kind: 'rule_not_found' };
        if (!current.active) return { kind: 'unchanged', rule: current };
        const after = (await deactivatePolicyRule(em, removal.tenantId, removal.rule, removal.actor))!;
        await audit(em, removal, current, after);
        return { kind: 'changed', rule: after };
      });
    },
  };
}

export type PolicyService = ReturnType<typeof createPolicyService>;
