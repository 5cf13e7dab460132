import { z } from 'zod';
import { text } from '../../domain/storable-schemas';
import { POLICY_RULE_NAMES, POLICY_RULE_PARAMS, type PolicyRuleName } from '../../domain/run-policy';
import type { VersionPrecondition } from '../../services/policy-service';

export const policyRulePathSchema = z.strictObject({
  tenantId: z.guid({ message: 'must be a tenant id' }),
  rule: z.enum(POLICY_RULE_NAMES, { message: `must be one of ${POLICY_RULE_NAMES.join(', ')}` }),
});

const reason = text().trim().min(1, { message: 'is required' }).max(500);

/** The body of `PUT …/policies/<rule>`: that rule's params, and why (required of operators: it is their audit note). */
export const policyChangeSchema = (rule: PolicyRuleName, options: { reasonRequired: boolean }) =>
  z.strictObject({ params: POLICY_RULE_PARAMS[rule], reason: options.reasonRequired ? reason : reason.optional() });

/** An operator switching a tenant's rule off says why, as for every other admin change. */
export const policyRemovalSchema = z.strictObject({ reason });

/** A rule's ETag is its version, quoted: `"3"`. */
export const entityTag = (version: number) => `"${version}"`;

const ENTITY_TAG = /^(W\/)?"([\x21\x23-\x7e]*)"$/;

/**
 * `If-Match` (RFC 9110): `*`, or a list of entity tags. Weak tags and tags that are no version of ours are valid but
 * never match (If-Match compares strongly), so they end in 412, not 400.
 */
export const ifMatchHeaderSchema = z.object({
  'if-match': text()
    .max(1_000)
    .transform((value, ctx): VersionPrecondition | typeof z.NEVER => {
      if (value.trim() === '*') return '*';
      const tags = value.split(',').map((tag) => tag.trim());
      const versions: number[] = [];
      for (const tag of tags) {
        const match = ENTITY_TAG.exec(tag);
        if (!match) {
          ctx.addIssue({ code: 'custom', message: 'must be * or a list of entity tags such as "3"' });
          return z.NEVER;
        }
        if (!match[1] && /^[1-9][0-9]{0,8}$/.test(match[2]!)) versions.push(Number(match[2]));
      }
      return versions;
    })
    .optional(),
});
