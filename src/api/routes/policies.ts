import { Router, type Request, type Response } from 'express';
import { actorOf } from '../../auth/principal';
import type { StoredPolicyRule } from '../../db/policy-rules';
import { POLICY_RULE_NAMES, governsExecution, type PolicyRuleName } from '../../domain/run-policy';
import type { PolicyChangeOutcome, PolicyService } from '../../services/policy-service';
import { principalOf, tenantNotFound, tenantPrincipalOf, type RouteDeclarer } from '../auth';
import type { AuthRequirement } from '../auth/requirement';
import { Problem, parseOr400 } from '../problem';
import { tenantPathSchema } from '../schemas/billing-state';
import { entityTag, ifMatchHeaderSchema, policyChangeSchema, policyRemovalSchema, policyRulePathSchema } from '../schemas/policies';

/** Who reaches a realm's policy routes, and how each finds its tenant, its actor and whether it must give a reason. */
interface PolicyRealm {
  base: string;
  tags: string[];
  read: AuthRequirement;
  change: AuthRequirement;
  reasonRequired: boolean;
  tenantOf(request: Request, response: Response): string;
}

const REALMS: PolicyRealm[] = [
  {
    // The guard has already matched :tenantId to the caller's tenant (404 otherwise).
    base: '/api/v1/tenants/:tenantId/policies',
    tags: ['policies'],
    read: 'tenant:tenant:read',
    change: 'tenant:policies:manage',
    reasonRequired: false,
    tenantOf: (_request, response) => tenantPrincipalOf(response).tenantId,
  },
  {
    // Reading is ops; changing a tenant's own governance is a founder's deliberate act, like its billing.
    base: '/api/v1/admin/tenants/:tenantId/policies',
    tags: ['admin', 'policies'],
    read: 'operator:ops',
    change: 'operator:founder',
    reasonRequired: true,
    tenantOf: (request) => parseOr400(tenantPathSchema, { tenantId: request.params.tenantId }, 'path').tenantId,
  },
];

const view = (rule: StoredPolicyRule) => ({ ...rule, updatedAt: rule.updatedAt.toISOString() });

/** Throws the problem for an outcome that changed nothing on purpose; returns the rule otherwise. */
function changedRule(outcome: PolicyChangeOutcome): { rule: StoredPolicyRule; changed: boolean } {
  switch (outcome.kind) {
    case 'tenant_not_found':
      throw tenantNotFound();
    case 'tenant_terminated':
      throw new Problem(409, 'Tenant terminated', 'The tenant is terminated: its policy was purged with its data, and nothing runs any more.');
    case 'rule_not_found':
      throw new Problem(404, 'Not found', 'The tenant has never set this rule.');
    case 'precondition_failed':
      throw new Problem(412, 'Precondition failed', 'If-Match does not name the current version of the rule: read it again, then decide.', { currentVersion: outcome.currentVersion });
    case 'changed':
    case 'unchanged':
      return { rule: outcome.rule, changed: outcome.kind === 'changed' };
  }
}

/** The refusals of changedRule, as the OpenAPI document lists them. */
const CHANGE_REFUSALS = {
  409: { description: 'The tenant is terminated: its policy is gone with its data' },
  412: { description: 'If-Match does not name the current version of the rule: `currentVersion` does' },
};

const expectedVersion = (request: Request) => parseOr400(ifMatchHeaderSchema, { 'if-match': request.header('if-match') }, 'header')['if-match'];

/**
 * A tenant's run policy: the rules the run kernel's governance applies (`src/domain/run-policy.ts`), for tenant admins
 * on their own tenant and for operators on any. Each rule is a resource with a version (its ETag); a PUT or DELETE may
 * carry If-Match with the version it read and gets 412 when the rule changed since. One PUT route per rule, so the
 * OpenAPI document states each rule's exact params.
 */
export function policyRoutes(options: { policies: PolicyService; route: RouteDeclarer }): Router {
  const router = Router();
  const { policies } = options;

  for (const realm of REALMS) {
    options.route(router, {
      method: 'get',
      path: realm.base,
      auth: realm.read,
      docs: { summary: "The tenant's policy rules (switched-off ones included) and the fingerprint runs are authorised under", tags: realm.tags, params: tenantPathSchema },
      handler: async (request, response) => {
        const policy = await policies.read(realm.tenantOf(request, response));
        if (!policy) throw tenantNotFound();
        response.json({ ...policy, rules: policy.rules.map(view) });
      },
    });

    options.route(router, {
      method: 'get',
      path: `${realm.base}/:rule`,
      auth: realm.read,
      docs: { summary: 'One policy rule; its ETag is its version', tags: realm.tags, params: policyRulePathSchema },
      handler: async (request, response) => {
        const tenantId = realm.tenantOf(request, response);
        const { rule } = parseOr400(policyRulePathSchema, request.params, 'path');
        const policy = await policies.read(tenantId);
        if (!policy) throw tenantNotFound();
        const found = policy.rules.find((candidate) => candidate.rule === rule);
        if (!found) throw new Problem(404, 'Not found', 'The tenant has never set this rule.');
        response.set('ETag', entityTag(found.version)).json(view(found));
      },
    });

    for (const rule of POLICY_RULE_NAMES) {
      const body = policyChangeSchema(rule, { reasonRequired: realm.reasonRequired });
      options.route(router, {
        method: 'put',
        path: `${realm.base}/${rule}`,
        auth: realm.change,
        docs: {
          summary: `Set the ${rule} rule and switch it on (audited; If-Match: "<version>" makes it conditional). ${
            governsExecution(rule) ? 'Runs in flight under the old rules halt and roll back' : 'Decisions taken from now on follow it; runs in flight carry on'
          }`,
          tags: realm.tags,
          params: tenantPathSchema,
          headers: ifMatchHeaderSchema,
          body,
          responses: {
            200: { description: 'The rule; `changed` is false when it already held these params' },
            201: { description: 'The rule, set for the first time' },
            ...CHANGE_REFUSALS,
          },
        },
        handler: async (request, response) => {
          const tenantId = realm.tenantOf(request, response);
          const expected = expectedVersion(request);
          const change = parseOr400(body, request.body);
          const outcome = await policies.set({ tenantId, rule: rule as PolicyRuleName, params: change.params, reason: change.reason, actor: actorOf(principalOf(response)), expected });
          const { rule: stored, changed } = changedRule(outcome);
          const created = changed && stored.version === 1;
          response
            .status(created ? 201 : 200)
            .location(`${request.baseUrl}${request.path}`)
            .set('ETag', entityTag(stored.version))
            .json({ ...view(stored), changed });
        },
      });
    }

    options.route(router, {
      method: 'delete',
      path: `${realm.base}/:rule`,
      auth: realm.change,
      docs: {
        summary: 'Switch a policy rule off, keeping its params (audited; If-Match makes it conditional). Runs in flight under the old rules halt and roll back',
        tags: realm.tags,
        params: policyRulePathSchema,
        headers: ifMatchHeaderSchema,
        ...(realm.reasonRequired ? { body: policyRemovalSchema } : {}),
        responses: { 204: { description: 'Off (also when it already was)' }, ...CHANGE_REFUSALS },
      },
      handler: async (request, response) => {
        const tenantId = realm.tenantOf(request, response);
        const { rule } = parseOr400(policyRulePathSchema, request.params, 'path');
        const expected = expectedVersion(request);
        const reason = realm.reasonRequired ? parseOr400(policyRemovalSchema, request.body ?? {}).reason : undefined;
        const { rule: stored } = changedRule(await policies.remove({ tenantId, rule, reason, actor: actorOf(principalOf(response)), expected }));
        response.status(204).set('ETag', entityTag(stored.version)).end();
      },
    });
  }

  return router;
}
