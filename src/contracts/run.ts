/**
 * Sandbox-safe contract of the run kernel, shared by the workflow, its activities, the API and tests: inputs,
 * status, failure types, and the one definition of every update and query. Imports nothing that touches Node APIs.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Gate } from '../domain/gate-decision';
import type { RunPhase } from '../domain/run-phase';
import type { RunPlan, StepKind } from '../domain/step-kinds';

export { RUN_PHASES, type RunPhase } from '../domain/run-phase';

/** Why a run ended FAILED. Activities raise the first three as non-retryable ApplicationFailure types. */
export const RunFailure = {
  TenantHalted: 'TenantHalted',
  PolicyChanged: 'PolicyChanged',
  StepFailed: 'StepFailed',
  GateRefused: 'GateRefused',
  GovernanceRejected: 'GovernanceRejected',
  ApprovalRejected: 'ApprovalRejected',
  ApprovalTimedOut: 'ApprovalTimedOut',
  OperatorTerminated: 'OperatorTerminated',
  Cancelled: 'Cancelled',
  /** The kernel's own bookkeeping (authorisation, governance) failed after all its retries. */
  Internal: 'Internal',
} as const;
export type RunFailureType = (typeof RunFailure)[keyof typeof RunFailure];
export const RUN_FAILURE_TYPES = Object.values(RunFailure);

/** Failure types a step executor raises non-retryable; the workflow reports them as StepFailed with this errorType. */
export const StepError = {
  RecordNotFound: 'RecordNotFound',
  TenantSchemaMissing: 'TenantSchemaMissing',
  InjectedFault: 'InjectedFault',
  /** Another run in flight holds the record (retryable: the holder usually finishes within the retries). */
  RecordBusy: 'RecordBusy',
} as const;

/** Why an update was refused by its validator, before anything reached history. */
export const RunUpdateRefusal = {
  NoApprovalPending: 'NoApprovalPending',
  ApprovalKeyMismatch: 'ApprovalKeyMismatch',
  NotInterruptible: 'NotInterruptible',
  OverrideAlreadyRequested: 'OverrideAlreadyRequested',
  ActorRequired: 'ActorRequired',
} as const;
export type RunUpdateRefusalType = (typeof RunUpdateRefusal)[keyof typeof RunUpdateRefusal];

export interface RunInput {
  runId: string;
  tenantId: string;
  plan: RunPlan;
  /** Who submitted it, as an audit actor (`user:<id>`). */
  submittedBy: string;
  /**
   * Set by the API, which writes the run's opening records (row, expectations, audit) in the transaction that admits
   * it: the kernel does not open it again. A run started any other way opens itself.
   */
  admitted?: boolean;
}

export type RunStepState = 'pending' | 'running' | 'completed' | 'failed' | 'compensating' | 'compensated' | 'skipped';
export type RunOutcome = 'completed' | 'failed';

export interface RunStepStatus {
  index: number;
  kind: StepKind;
  state: RunStepState;
  error?: string;
}

export interface RunCause {
  type: RunFailureType;
  message: string;
  stepIndex?: number;
  gate?: Gate;
  actor?: string;
  /** The step's own failure type (RecordNotFound, InjectedFault…) under StepFailed. */
  errorType?: string;
  violations?: string[];
}

/** An operator's force-complete: who, why, and what it skipped. */
export interface RunOverride {
  actor: string;
  reason: string;
  skippedSteps: number[];
  /** True unless the governance check had already concluded when the override landed. */
  skippedGovernance: boolean;
}

/** `step:<index>` for an approval step, `governance` for an approval the governance check asked for. */
export interface PendingApproval {
  key: string;
  reason: string;
  /** ISO time after which the approval times out and the run rolls back. */
  deadline: string;
}

export interface RunStatus {
  runId: string;
  tenantId: string;
  phase: RunPhase;
  outcome: RunOutcome | null;
  steps: RunStepStatus[];
  cause: RunCause | null;
  degraded: boolean;
  rollingBack: boolean;
  pendingApproval: PendingApproval | null;
  override: RunOverride | null;
}

export interface ApprovalInput {
  /** Audit actor of the tenant admin deciding (`user:<id>`). */
  actor: string;
  /** When given, must match the pending approval: a decision never lands on a different approval than the one seen. */
  approvalKey?: string;
  note?: string;
}

export interface OperatorOverrideInput {
  actor: string;
  reason: string;
}

export interface ApprovalAnswer {
  approvalKey: string;
  decision: 'approved' | 'rejected';
}

export interface OverrideAnswer {
  accepted: 'terminate' | 'force_complete';
  phase: RunPhase;
}

export const runStatusQuery = defineQuery<RunStatus>('runStatus');
export const approveRunUpdate = defineUpdate<ApprovalAnswer, [ApprovalInput]>('approve');
export const rejectRunUpdate = defineUpdate<ApprovalAnswer, [ApprovalInput]>('reject');
/** Graceful: interrupts waits at once and an in-flight step at its end, rolls back, ends FAILED. */
export const terminateRunUpdate = defineUpdate<OverrideAnswer, [OperatorOverrideInput]>('terminateRun');
/** Skips what remains (steps and governance), ends COMPLETED with the override audited. */
export const forceCompleteRunUpdate = defineUpdate<OverrideAnswer, [OperatorOverrideInput]>('forceCompleteRun');
/** The names these two updates had while run and tenant workflows shared them: still registered, send the new ones. */
export const legacyTerminateRunUpdate = defineUpdate<OverrideAnswer, [OperatorOverrideInput]>('terminate');
export const legacyForceCompleteRunUpdate = defineUpdate<OverrideAnswer, [OperatorOverrideInput]>('forceComplete');

/** Activity input shared by everything a run does: runId is the correlation key everywhere. */
export interface RunContext {
  runId: string;
  tenantId: string;
}

export interface RunStepContext extends RunContext {
  stepIndex: number;
  /** The policy read at authorisation: any other fingerprint now means the policy changed mid-run. */
  policyFingerprint: string;
}

export interface AuthorizationResult {
  allowed: boolean;
  gate: Gate;
  reason: string;
  policyFingerprint: string;
}

export interface GovernanceResult {
  outcome: 'pass' | 'reject' | 'approval_required';
  violations: string[];
  totalDebited: number;
  approval?: { reason: string; timeoutSeconds: number };
}

export interface RunResult {
  runId: string;
  phase: 'COMPLETED';
  outcome: 'completed';
  steps: RunStepStatus[];
  degraded: boolean;
  override: RunOverride | null;
}
