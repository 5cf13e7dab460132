import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ApprovalAuthority, FourEyesRefusalType, KeyPeople, RunSubmitter } from '../domain/four-eyes';
import { keyCreatorUserIdSql, keyOwnerUserIdSql } from './api-key-creators';
import { recordAudit } from './audit';

/** What a decision on a run is judged by: the run's owner and submitter, the deciding key's people, the tenant's leave. */
export interface ApprovalContext {
  /** Undefined when the run has no row (yet): the caller falls back to the workflow to find its owner. */
  run?: { tenantId: string; finished: boolean; submitter: RunSubmitter };
  /** The creator and current owner of the deciding API key; both null for a session, or a key of no person. */
  deciderKey: KeyPeople;
  authority: ApprovalAuthority;
}

interface ApprovalContextRow {
  tenant_id: string | null;
  outcome: string | null;
  submitted_by_user_id: string | null;
  submitted_by_key_id: string | null;
  submitter_key_creator_user_id: string | null;
  submitter_key_owner_user_id: string | null;
  decider_key_creator_user_id: string | null;
  decider_key_owner_user_id: string | null;
  api_key_approval_allowed: boolean;
}

/**
 * Everything four eyes needs in one round trip: the run's row (any tenant's: the caller answers a foreign one as not
 * found) and the creator and current owner of the key that submitted it, read now so a key re-owned since still counts
 * both; and, in the caller's tenant, the deciding key's creator and owner and whether the tenant lets keys decide runs.
 */
export async function readApprovalContext(em: EntityManager, input: { runId: string; tenantId: string; deciderKeyId: string | null }): Promise<ApprovalContext> {
  const creator = keyCreatorUserIdSql('k');
  const owner = keyOwnerUserIdSql('k');
  const people = `select ${creator.sql} as creator_user_id, ${owner.sql} as owner_user_id from api_key k`;
  const [row] = await em.execute<ApprovalContextRow[]>(
    `select r.tenant_id, r.outcome, r.submitted_by_user_id, r.submitted_by_key_id,
            sk.creator_user_id as submitter_key_creator_user_id, sk.owner_user_id as submitter_key_owner_user_id,
            dk.creator_user_id as decider_key_creator_user_id, dk.owner_user_id as decider_key_owner_user_id,
            exists (select 1 from policy_rule p where p.tenant_id = ? and p.rule = 'allow_api_key_approval' and p.active) as api_key_approval_allowed
       from (select 1) as one
       left join run r on r.id = ?
       left join lateral (${people} where k.id = r.submitted_by_key_id and k.tenant_id = r.tenant_id) sk on true
       left join lateral (${people} where k.id = ?::uuid and k.tenant_id = ?) dk on true`,
    [input.tenantId, input.runId, ...creator.params, ...owner.params, ...creator.params, ...owner.params, input.deciderKeyId, input.tenantId],
  );
  return {
    ...(row?.tenant_id
      ? {
          run: {
            tenantId: row.tenant_id,
            finished: row.outcome !== null,
            submitter: {
              userId: row.submitted_by_user_id,
              apiKeyId: row.submitted_by_key_id,
              keyPeople: { creatorUserId: row.submitter_key_creator_user_id, ownerUserId: row.submitter_key_owner_user_id },
            },
          },
        }
      : {}),
    deciderKey: { creatorUserId: row?.decider_key_creator_user_id ?? null, ownerUserId: row?.decider_key_owner_user_id ?? null },
    authority: { apiKeyApprovalAllowed: row?.api_key_approval_allowed === true },
  };
}

/** A decision four eyes refused: audited on the run's trail (the run itself does not change). */
export async function recordApprovalRefusal(
  em: EntityManager,
  input: { runId: string; tenantId: string; actor: string; decision: 'approve' | 'reject'; refusal: FourEyesRefusalType; reason: string; approvalKey?: string },
): Promise<void> {
  await recordAudit(em, {
    actor: input.actor,
    action: 'run.approval_refused',
    entityType: 'run',
    entityId: input.runId,
    tenantId: input.tenantId,
    reason: input.reason,
    correlationId: input.runId,
    // Every refused attempt is its own event.
    idempotencyKey: `run:${input.runId}:approval_refused:${randomUUID()}`,
    details: { decision: input.decision, refusal: input.refusal, ...(input.approvalKey ? { approvalKey: input.approvalKey } : {}) },
  });
}

/** A decision taken on one of a run's approvals, as the run's trail records it. */
export interface RunDecision {
  approvalKey: string;
  decision: 'approved' | 'rejected';
  actor: string;
  note: string | null;
  at: string;
}

/** The approvals and rejections a run took, oldest first (the kernel audits each as it settles the approval). */
export async function listRunDecisions(em: EntityManager, runId: string): Promise<RunDecision[]> {
  const rows = await em.execute<Array<{ action: string; actor: string; reason: string | null; approval_key: string | null; at: Date | string }>>(
    `select action, actor, reason, details->>'approvalKey' as approval_key, at from audit_event
       where correlation_id = ? and action in ('run.approval_approved', 'run.approval_rejected') order by id`,
    [runId],
  );
  return rows.map((row) => ({
    approvalKey: row.approval_key ?? '',
    decision: row.action === 'run.approval_approved' ? 'approved' : 'rejected',
    actor: row.actor,
    note: row.reason,
    at: new Date(row.at).toISOString(),
  }));
}
