import { createHash, randomUUID } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import {
  approveRunUpdate,
  forceCompleteRunUpdate,
  rejectRunUpdate,
  runStatusQuery,
  terminateRunUpdate,
  type ApprovalAnswer,
  type ApprovalInput,
  type OperatorOverrideInput,
  type OverrideAnswer,
  type RunInput,
  type RunStatus,
} from '../contracts/run';
import { Run } from '../db/entities';
import { listRunDecisions, readApprovalContext, recordApprovalRefusal, type RunDecision } from '../db/run-approvals';
import { fourEyesVerdict, type FourEyesRefusalType, type RunSubmitter } from '../domain/four-eyes';
import { openRunRecords } from '../db/run-opening';
import { lockTenantAdmissions, releaseRunReservation } from '../db/run-reservation';
import type { GateDecision } from '../domain/gate-decision';
import type { TenantStatus } from '../domain/tenant-status';
import type { RunAdmission } from './run-admission';
import type { Orm } from '../db/orm';
import { loadAuditedRuns } from '../db/run-audit-queries';
import { auditFindings, type AuditFinding } from '../domain/run-audit';
import type { RunPlan } from '../domain/step-kinds';
import { RUN_DEGRADED, RUN_PHASE, TENANT_ID } from '../temporal/search-attributes';
import { isTemporalUnavailable } from '../temporal/temporal-errors';
import { runWorkflowId } from '../temporal/workflow-ids';
import type { runWorkflow } from '../../workflows/run';

export interface RunServiceDependencies {
  client: Client;
  orm: Orm;
  taskQueue: string;
  now?: () => Date;
}

export interface RunSubmission {
  tenantId: string;
  /** The tenant's status as the caller's credential saw it: the lifecycle gate's input. */
  tenantStatus: TenantStatus;
  /** Audit actor of whoever submitted (`user:<id>`). */
  submittedBy: string;
  plan: RunPlan;
  /** The same key from the same tenant lands on the same run, so a retried POST never runs the plan twice. */
  idempotencyKey?: string;
}

export type SubmitOutcome =
  | { kind: 'accepted' | 'duplicate'; runId: string; workflowId: string }
  | { kind: 'conflict'; runId: string }
  | { kind: 'refused'; refusal: GateDecision };

/** Who submitted a run: the audit actor, and the person and key behind it (null when unknown). */
export interface RunSubmitterView extends RunSubmitter {
  actor: string;
}

/** What the API shows a tenant about one run: its state, who submitted it and who decided its approvals. */
export type RunView = Omit<RunStatus, 'rollingBack'> & {
  rollingBack: boolean;
  createdAt?: string;
  finishedAt?: string | null;
  /** Null only for a run whose opening record is not written yet. */
  submittedBy: RunSubmitterView | null;
  decisions: RunDecision[];
};

export type RunControlOutcome<T> = { kind: 'done'; answer: T } | { kind: 'not_found' } | { kind: 'finished' };

/** The credential deciding a run, as the API authenticated it. */
export type DecidingCredential = { kind: 'user'; userId: string } | { kind: 'api_key'; apiKeyId: string };

export interface RunDecisionRequest {
  tenantId: string;
  runId: string;
  decider: DecidingCredential;
  /** The update the run receives; its actor is the decider's audit actor. */
  input: ApprovalInput;
}

/** A decision four eyes refused (audited), or what the run made of it. */
export type RunDecisionOutcome = RunControlOutcome<ApprovalAnswer> | { kind: 'refused'; refusal: FourEyesRefusalType; reason: string };

/** Keys sorted at every level: the plan as the API parsed it and as jsonb gives it back fingerprint alike. */
const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
};
const planFingerprint = (plan: unknown) => createHash('sha256').update(canonicalJson(plan)).digest('hex');

/** Admissions of one tenant queue here, one transaction at a time; nothing else takes this lock. */

/** A uuid derived from (tenant, key): stable across retries, never shared between tenants. */
function runIdFor(tenantId: string, idempotencyKey: string): string {
  const hex = createHash('sha256').update(`${tenantId}\n${idempotencyKey}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Submits runs and answers for them. Postgres holds the record of a finished run; the workflow's own query is the
 * live view of one in flight. A tenant only ever sees its own runs: anyone else's is "not found".
 */
export function createRunService(deps: RunServiceDependencies) {
  const handleOf = (runId: string): WorkflowHandle<typeof runWorkflow> => deps.client.workflow.getHandle(runWorkflowId(runId));

  async function storedRun(runId: string): Promise<Run | null> {
    return deps.orm.em.fork().findOne(Run, { id: runId });
  }

  /** The tenant that owns a run: its row, or (before the opening write lands) the workflow's TenantId. */
  async function ownerOf(runId: string): Promise<{ tenantId: string; finished: boolean } | undefined> {
    const row = await storedRun(runId);
    if (row) return { tenantId: row.tenantId, finished: row.outcome !== null && row.outcome !== undefined };
    try {
      const description = await handleOf(runId).describe();
      const tenantId = description.typedSearchAttributes.get(TENANT_ID);
      return tenantId ? { tenantId, finished: description.status.name !== 'RUNNING' } : undefined;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    }
  }

  async function control<T>(runId: string, tenantId: string | undefined, send: (handle: WorkflowHandle<typeof runWorkflow>) => Promise<T>): Promise<RunControlOutcome<T>> {
    const owner = await ownerOf(runId);
    if (!owner || (tenantId !== undefined && owner.tenantId !== tenantId)) return { kind: 'not_found' };
    if (owner.finished) return { kind: 'finished' };
    return sendControl(runId, send);
  }

  /** Sends a control to a run known to be the caller's and not finished. */
  async function sendControl<T>(runId: string, send: (handle: WorkflowHandle<typeof runWorkflow>) => Promise<T>): Promise<RunControlOutcome<T>> {
    try {
      return { kind: 'done', answer: await send(handleOf(runId)) };
    } catch (error) {
      // The run ended between the check and the update.
      if (error instanceof WorkflowNotFoundError) return { kind: 'finished' };
      throw error;
    }
  }

  const submitterOf = (row: Run): RunSubmitterView => ({ actor: row.submittedBy, userId: row.submittedByUserId ?? null, apiKeyId: row.submittedByKeyId ?? null });

  const fromRow = (row: Run, decisions: RunDecision[]): RunView => ({
    runId: row.id,
    tenantId: row.tenantId,
    phase: row.phase,
    outcome: row.outcome ?? null,
    steps: row.stepStates,
    cause: row.cause ?? null,
    degraded: row.degraded,
    rollingBack: false,
    pendingApproval: null,
    override: row.override ?? null,
    createdAt: row.createdAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
    submittedBy: submitterOf(row),
    decisions,
  });

  /**
   * Four eyes at the boundary every tenant decision passes: the submitter (from the run's row) never decides their own
   * run, and a key decides only where the tenant allows it. A refusal is audited and the run keeps waiting.
   */
  async function decide(decision: 'approve' | 'reject', request: RunDecisionRequest): Promise<RunDecisionOutcome> {
    const em = deps.orm.em.fork();
    const { decider } = request;
    const context = await readApprovalContext(em, { runId: request.runId, tenantId: request.tenantId, deciderKeyId: decider.kind === 'api_key' ? decider.apiKeyId : null });
    const owner = context.run ?? (await ownerOf(request.runId));
    if (!owner || owner.tenantId !== request.tenantId) return { kind: 'not_found' };
    if (owner.finished) return { kind: 'finished' };
    // A run with no row yet has not opened, so it waits for no approval; nobody is its known submitter.
    const submitter = context.run?.submitter ?? { userId: null, apiKeyId: null };
    const verdict = fourEyesVerdict(
      submitter,
      decider.kind === 'user' ? decider : { kind: 'api_key', apiKeyId: decider.apiKeyId, ...context.deciderKey },
      context.authority,
    );
    if (!verdict.allowed) {
      await recordApprovalRefusal(em, {
        runId: request.runId,
        tenantId: request.tenantId,
        actor: request.input.actor,
        decision,
        refusal: verdict.refusal,
        reason: verdict.reason,
        approvalKey: request.input.approvalKey,
      });
      return { kind: 'refused', refusal: verdict.refusal, reason: verdict.reason };
    }
    return sendControl(request.runId, (handle) => handle.executeUpdate(decision === 'approve' ? approveRunUpdate : rejectRunUpdate, { args: [request.input] }));
  }

  /** Starts the run's workflow; one already started (or already ended) under its id is left as it is. */
  async function startRunWorkflow(input: RunInput, submission: RunSubmission): Promise<void> {
    try {
      await deps.client.workflow.start<typeof runWorkflow>('runWorkflow', {
        taskQueue: deps.taskQueue,
        workflowId: runWorkflowId(input.runId),
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        // Once a run has ended its id stays spent: a late retry of its key never starts it again.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: [
          { key: TENANT_ID, value: submission.tenantId },
          { key: RUN_PHASE, value: 'CREATED' },
          { key: RUN_DEGRADED, value: false },
        ],
        staticSummary: `Run of ${submission.plan.steps.length} steps (${[...new Set(submission.plan.steps.map((step) => step.kind))].join(', ')})`,
        staticDetails: `tenant ${submission.tenantId}, submitted by ${submission.submittedBy}${submission.plan.description ? `: ${submission.plan.description}` : ''}`,
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
  }

  /** The workflow could not start: the row and expectations go, so the slot is free and the key can be retried. */
  async function releaseReservation(runId: string, tenantId: string): Promise<void> {
    await deps.orm.em.fork().transactional((em) => releaseRunReservation(em, { runId, tenantId }, { action: 'run.start_failed' }));
  }

  return {
    /**
     * Admits and starts a run. Admission is one transaction under the tenant's lock: the gates read the tenant's
     * counts and, if they allow it, the run's row and expectations are written, so the next admission counts it. Then
     * the workflow starts; if it cannot, the reservation is released. A retried key finds its row (and starts the
     * workflow if an earlier attempt stopped before that), so it never runs the plan twice.
     */
    async submit(submission: RunSubmission, admit: RunAdmission): Promise<SubmitOutcome> {
      const runId = submission.idempotencyKey ? runIdFor(submission.tenantId, submission.idempotencyKey) : randomUUID();
      const workflowId = runWorkflowId(runId);
      const input: RunInput = { runId, tenantId: submission.tenantId, plan: submission.plan, submittedBy: submission.submittedBy, admitted: true };
      const check = await admit(submission.tenantId, submission.tenantStatus, submission.plan.steps.length);
      const reservation = await deps.orm.em.fork().transactional(async (em): Promise<'reserved' | 'existing' | 'conflict' | { refusal: GateDecision }> => {
        await lockTenantAdmissions(em, submission.tenantId);
        const [existing] = await em.execute<Array<{ tenant_id: string; plan: unknown }>>(`select tenant_id, plan from run where id = ?`, [runId]);
        if (existing) return existing.tenant_id === submission.tenantId && planFingerprint(existing.plan) === planFingerprint(submission.plan) ? 'existing' : 'conflict';
        const refusal = await check(em);
        if (refusal) return { refusal };
        await openRunRecords(em, { ...input, workflowId }, { now: (deps.now ?? (() => new Date()))() });
        return 'reserved';
      });
      if (reservation === 'conflict') return { kind: 'conflict', runId };
      if (typeof reservation === 'object') return { kind: 'refused', refusal: reservation.refusal };
      try {
        await startRunWorkflow(input, submission);
      } catch (error) {
        // Temporal unreachable or silent: the start may have landed all the same. Releasing then would leave a running
        // workflow without its row, and a retried key would admit it a second time; the reservation sweep frees the
        // slot later if the workflow never started, and a retry of the key meanwhile lands on this run.
        if (reservation === 'reserved' && !isTemporalUnavailable(error)) await releaseReservation(runId, submission.tenantId);
        throw error;
      }
      return { kind: reservation === 'reserved' ? 'accepted' : 'duplicate', runId, workflowId };
    },

    /** The tenant's view of its run, or undefined when it has no such run. */
    async status(tenantId: string, runId: string): Promise<RunView | undefined> {
      const [row, decisions] = await Promise.all([storedRun(runId), listRunDecisions(deps.orm.em.fork(), runId)]);
      if (row && row.tenantId !== tenantId) return undefined;
      if (row?.outcome) return fromRow(row, decisions);
      try {
        const live = await handleOf(runId).query(runStatusQuery);
        if (live.tenantId !== tenantId) return undefined;
        return { ...live, ...(row ? { createdAt: row.createdAt.toISOString(), finishedAt: null } : {}), submittedBy: row ? submitterOf(row) : null, decisions };
      } catch (error) {
        if (row) return fromRow(row, decisions);
        if (error instanceof WorkflowNotFoundError) return undefined;
        throw error;
      }
    },

    approve: (request: RunDecisionRequest): Promise<RunDecisionOutcome> => decide('approve', request),

    reject: (request: RunDecisionRequest): Promise<RunDecisionOutcome> => decide('reject', request),

    terminate: (runId: string, request: OperatorOverrideInput): Promise<RunControlOutcome<OverrideAnswer>> =>
      control(runId, undefined, (handle) => handle.executeUpdate(terminateRunUpdate, { args: [request] })),

    forceComplete: (runId: string, request: OperatorOverrideInput): Promise<RunControlOutcome<OverrideAnswer>> =>
      control(runId, undefined, (handle) => handle.executeUpdate(forceCompleteRunUpdate, { args: [request] })),

    /** The operator's audit view: expectations against acks, the findings computed now, stored findings, the trail. */
    async audit(runId: string) {
      const em = deps.orm.em.fork();
      const [run] = await loadAuditedRuns(em, [runId]);
      if (!run || (!run.hasRow && run.ackedKeys.length === 0)) return undefined;
      const row = await em.findOne(Run, { id: runId });
      const findings: AuditFinding[] = auditFindings(run, (deps.now ?? (() => new Date()))());
      const recorded = await em.execute(
        `select kind, key, detected_at as "detectedAt", resolved_at as "resolvedAt" from run_audit_finding where run_id = ? order by id`,
        [runId],
      );
      const trail = await em.execute(
        `select actor, action, from_state as "fromState", to_state as "toState", reason, details, at from audit_event where correlation_id = ? order by id`,
        [runId],
      );
      const incident = await em.execute(`select failure_type as "failureType", cause, created_at as "createdAt" from run_incident where run_id = ?`, [runId]);
      return {
        runId,
        tenantId: run.tenantId,
        phase: row?.phase ?? null,
        outcome: row?.outcome ?? null,
        degraded: row?.degraded ?? false,
        finalizeDeadline: run.finalizeDeadline?.toISOString() ?? null,
        expectations: run.expectations.map((expectation) => ({
          ...expectation,
          acked: expectation.key in run.ackedAt,
          ackedAt: run.ackedAt[expectation.key]?.toISOString() ?? null,
        })),
        findings: {
          missing: findings.filter((finding) => finding.kind === 'missing').map((finding) => finding.key),
          drift: findings.filter((finding) => finding.kind === 'drift').map((finding) => finding.key),
          stale: findings.some((finding) => finding.kind === 'stale'),
        },
        recordedFindings: recorded,
        incident: incident[0] ?? null,
        trail,
      };
    },
  };
}

export type RunService = ReturnType<typeof createRunService>;
