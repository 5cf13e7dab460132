import type { EntityManager } from '@mikro-orm/postgresql';
import type { RunInput } from '../contracts/run';
import { FINALIZE_RUN_KEY, GOVERNANCE_KEY, stepKey, type ExpectationKind } from '../domain/run-audit';
import { credentialOfActor } from '../domain/four-eyes';
import { governanceWaitingMs } from '../domain/run-policy';
import { plannedWaitingMs } from '../domain/step-kinds';
import { storableJson } from '../domain/storable-text';
import { readActivePolicy } from './policy-rules';
import { auditRow, executeWithAudit } from './audit';
import { keyOwnerUserIdSql } from './api-key-creators';
import { runAuditEntry } from './run-trail';

/** Slack on top of a run's planned waiting before a missing finalize_run ack counts as stale. */
export const DEFAULT_STALE_GRACE_MS = 60 * 60 * 1000;

/**
 * A run's plan, steps and cause as stored: storable whatever the workflow was started with (the API refuses bad text,
 * but a run started another way must still be able to close), and roomy enough never to cut a valid plan.
 */
export const storedRunJson = (value: unknown) => JSON.stringify(storableJson(value, { maxStringLength: 16_384, maxDepth: 64 }));

/**
 * CREATED, written once whoever writes first: the run's row, one expectation per planned step, one for governance and
 * one for finalize_run, and its audit event. The API writes it when it admits the run; the workflow's openRun writes it
 * for a run started any other way, and finds it there otherwise.
 */
export async function openRunRecords(em: EntityManager, input: RunInput & { workflowId: string }, options: { now: Date; staleGraceMs?: number }): Promise<void> {
  const { policy } = await readActivePolicy(em, input.tenantId);
  const deadline = new Date(options.now.getTime() + plannedWaitingMs(input.plan) + governanceWaitingMs(policy) + (options.staleGraceMs ?? DEFAULT_STALE_GRACE_MS));
  const expectations = [
    ...input.plan.steps.map((_step, index) => ({ key: stepKey(index), kind: 'step' as ExpectationKind })),
    { key: GOVERNANCE_KEY, kind: 'governance' as ExpectationKind },
    { key: FINALIZE_RUN_KEY, kind: 'finalize' as ExpectationKind },
  ];
  const audit = auditRow(
    runAuditEntry(input, 'run.created', 'created', {
      actor: input.submittedBy,
      to: 'CREATED',
      details: { stepCount: input.plan.steps.length, kinds: input.plan.steps.map((step) => step.kind) },
    }),
  );
  // Four eyes: the person behind the submission, a key's current owner read in the same statement when a key submitted
  // it (decisions read the key's creator and owner again, so a later re-owning changes nothing).
  const submitter = credentialOfActor(input.submittedBy);
  const owner = keyOwnerUserIdSql('k');
  // One statement (one round trip): the row, every expectation and the audit event; each part a no-op when repeated.
  await executeWithAudit(
    em,
    {
      ctes: `opened as (
               insert into run (id, tenant_id, workflow_id, phase, plan, step_states, degraded, submitted_by, submitted_by_user_id, submitted_by_key_id, finalize_deadline, created_at, updated_at)
                 values (?, ?, ?, 'CREATED', ?::jsonb, ?::jsonb, false, ?,
                   coalesce(?::uuid, (select ${owner.sql} from api_key k where k.id = ?::uuid and k.tenant_id = ?)), ?::uuid,
                   ?, now(), now()) on conflict (id) do nothing),
             expected as (
               insert into run_expectation (run_id, key, kind, created_at) values ${expectations.map(() => '(?, ?, ?, now())').join(', ')}
                 on conflict (run_id, key) do nothing)`,
      params: [
      input.runId,
      input.tenantId,
      input.workflowId,
      storedRunJson(input.plan),
      JSON.stringify(input.plan.steps.map((step, index) => ({ index, kind: step.kind, state: 'pending' }))),
      input.submittedBy,
      submitter.userId,
      ...owner.params,
      submitter.apiKeyId,
      input.tenantId,
      submitter.apiKeyId,
      deadline,
      ...expectations.flatMap((expectation) => [input.runId, expectation.key, expectation.kind]),
      ],
      select: '1 as opened',
    },
    audit,
  );
}
