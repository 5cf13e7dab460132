import {
  CancellationScope,
  ParentClosePolicy,
  patched,
  proxyActivities,
  proxyLocalActivities,
  proxySinks,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { ProvisioningActivities } from '../activities/provisioning';
import type { TrialSchedule } from '../src/contracts/billing';
import type { ControlPlaneSinks } from '../src/contracts/sinks';
import {
  ProvisioningFailure,
  PROVISIONING_STEPS,
  provisioningProgressQuery,
  type FailedCompensation,
  type ProvisioningProgress,
  type ProvisioningStep,
  type ProvisionTenantInput,
  type ProvisionTenantResult,
  type StepContext,
  type StepState,
} from '../src/contracts/provisioning';
import { PROVISIONING_FAILURE_MESSAGES, provisioningFailureType } from '../src/domain/provisioning-messages';
import { DEFAULT_RETENTION_DAYS } from '../src/domain/lifecycle';
import { DEFAULT_UNVERIFIED_SIGNUP_DAYS, DEFAULT_VERIFICATION_REMINDER_HOURS } from '../src/domain/email-verification';
import { PROVISIONING_STEP, TENANT_ID, TENANT_LIFECYCLE_STATE } from '../src/temporal/search-attributes';
import { signupNoticeWorkflowId, tenantLifecycleWorkflowId } from '../src/temporal/workflow-ids';
import { startBillingTrialChild } from './billing';
import { startEmailVerificationChild } from './email-verification';
import { failureMessage, failureType, permanentFailure } from './failures';
import { tenantLifecycle } from './lifecycle';
import { signupAttemptNotice } from './signup-notice';

// Forward steps: retried with backoff for transient faults; permanent faults are raised non-retryable.
const forward = proxyActivities<ProvisioningActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 8 },
});

// The same forward steps as local activities: each is one short transaction, so running it inside the workflow task
// saves a server round trip per step (docs/performance.md). Same retry policy. Every retry waits on a workflow timer
// rather than inside the worker, so a failing step ends the workflow task: its progress query answers and another
// worker can take over between attempts.
const localForward = proxyLocalActivities<ProvisioningActivities>({
  startToCloseTimeout: '30 seconds',
  localRetryThreshold: '100 milliseconds',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 8 },
});

// Compensations must finish or nothing is clean: retried without limit, backing off to a minute.
const compensate = proxyActivities<ProvisioningActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const { metrics, events } = proxySinks<ControlPlaneSinks>();
const secondsSinceStart = () => (Date.now() - workflowInfo().startTime.getTime()) / 1000;

/** Signup saga: a working tenant, or nothing at all. */
export async function provisionTenant(input: ProvisionTenantInput): Promise<ProvisionTenantResult> {
  // Sagas started before this patch replay with their forward steps as ordinary activities.
  const localSteps = patched('local-saga-steps');
  const steps = localSteps ? localForward : forward;
  // From this patch on, an address that already has an account gets a decoy, not a failure (issue 21 item 6).
  const screened = patched('registered-email-decoy');
  const context: StepContext = { tenantId: input.tenantId, workflowId: workflowInfo().workflowId };
  const progress: ProvisioningProgress = {
    tenantId: input.tenantId,
    slug: input.slug,
    signupFingerprint: input.signupFingerprint,
    outcome: 'running',
    currentStep: null,
    steps: PROVISIONING_STEPS.map((name) => ({ name, state: 'pending' as StepState })),
  };
  setHandler(provisioningProgressQuery, () => progress);
  const mark = (name: ProvisioningStep, state: StepState) => {
    const entry = progress.steps.find((candidate) => candidate.name === name);
    if (entry) entry.state = state;
    if (state !== 'running' && state !== 'compensating') {
      events.emit({ type: `provisioning.step_${state}`, tenantId: input.tenantId, data: { step: name, slug: input.slug } });
    }
  };

  const undo: UndoStep[] = [];
  let trialSchedule: TrialSchedule | undefined;
  // The compensation is registered before its step runs: a step can commit and still fail to report, and its
  // compensation is safe to call for a step that never ran.
  const runStep = async (name: ProvisioningStep, act: () => Promise<void>, inverse: () => Promise<void>) => {
    progress.currentStep = name;
    mark(name, 'running');
    undo.unshift({ name, run: inverse });
    await act();
    mark(name, 'completed');
  };

  try {
    let ownerRegistered = false;
    await runStep(
      'reserveTenant',
      async () => {
        // Sagas recorded before the screening got nothing back from this step.
        const reservation = await steps.reserveTenant({ ...context, slug: input.slug, orgName: input.orgName, ...(screened ? { ownerEmail: input.ownerEmail } : {}) });
        ownerRegistered = reservation?.ownerRegistered === true;
      },
      () => compensate.releaseTenant(context),
    );
    if (ownerRegistered) return await answerAsDecoy(input, progress);
    await runStep(
      'createOwner',
      () => steps.createOwner({ ...context, email: input.ownerEmail, passwordHash: input.passwordHash }),
      () => compensate.removeOwner(context),
    );
    await runStep(
      'openTrialBilling',
      async () => {
        // Sagas recorded before the step returned its schedule get nothing here: their timer reads it itself.
        trialSchedule = (await steps.openTrialBilling(context)) ?? undefined;
      },
      () => compensate.closeBilling(context),
    );
    await runStep('createTenantSchema', () => steps.createTenantSchema(context), () => compensate.dropTenantSchema(context));
    await runStep('initOnboarding', () => steps.initOnboarding(context), () => compensate.resetOnboarding(context));
    await runStep('activateTenant', () => steps.activateTenant(context), () => compensate.deactivateTenant(context));
  } catch (error) {
    const failedStep = progress.currentStep ?? 'reserveTenant';
    mark(failedStep, 'failed');
    // Only a failed saga is tagged with its step: a visibility write per step would halve signup throughput
    // (docs/performance.md), and a running saga's step is in its progress query.
    upsertSearchAttributes([{ key: PROVISIONING_STEP, value: failedStep }]);
    const type = provisioningFailureType(failureType(error));
    progress.failure = { step: failedStep, type, message: PROVISIONING_FAILURE_MESSAGES[type] };
    progress.outcome = 'rolling_back';
    const failedCompensations = await CancellationScope.nonCancellable(async () => {
      const failed = await rollBack(undo, mark);
      await compensate.recordProvisioningFailure({ ...context, step: failedStep, type, cause: failureMessage(error), failedCompensations: failed });
      return failed;
    });
    progress.currentStep = null;
    // The address got an account between the screening and createOwner: rolled back, it ends as the decoy does.
    if (screened && type === ProvisioningFailure.EmailRegistered && failedCompensations.length === 0) return await answerAsDecoy(input, progress);
    if (failedCompensations.length > 0) {
      // Ended, not stuck: the name is released (releaseTenant runs last and only needs the id), the incident is in the
      // audit trail, and provisions_total{outcome="rollback_failed"} raises the alert.
      progress.outcome = 'rollback_failed';
      const incomplete = ProvisioningFailure.RollbackIncomplete;
      progress.failure = { step: failedStep, type: incomplete, message: PROVISIONING_FAILURE_MESSAGES[incomplete] };
      events.emit({ type: 'provisioning.rollback_failed', tenantId: input.tenantId, data: { slug: input.slug, failedCompensations } });
      metrics.provisioningFinished('rollback_failed', secondsSinceStart());
      throw permanentFailure(incomplete, PROVISIONING_FAILURE_MESSAGES[incomplete]);
    }
    progress.outcome = 'failed';
    metrics.provisioningFinished('failed', secondsSinceStart());
    throw permanentFailure(type, PROVISIONING_FAILURE_MESSAGES[type]);
  }

  if (localSteps) {
    // The children at once: one round trip. The owner's email is checked from here on; sagas recorded before
    // verification existed replay without it.
    const verification = patched('start-email-verification') ? [alreadyStartedIsFine(startEmailVerificationChild(verificationInput(input)))] : [];
    await Promise.all([startLifecycle(input), alreadyStartedIsFine(startBillingTrialChild(input.tenantId, trialSchedule)), ...verification]);
  } else {
    // Sagas recorded before these children existed replay without starting them.
    if (patched('start-tenant-lifecycle')) await startLifecycle(input);
    if (patched('start-billing-trial')) await alreadyStartedIsFine(startBillingTrialChild(input.tenantId));
  }

  progress.outcome = 'active';
  progress.currentStep = null;
  metrics.provisioningFinished('active', secondsSinceStart());
  return { tenantId: input.tenantId, slug: input.slug, status: 'active' };
}

type UndoStep = { name: ProvisioningStep; run: () => Promise<void> };

/**
 * The owner's address already has an account: nothing is created, its owner is told by mail, and the saga completes
 * as a signup does, so no public answer (202, progress, the name held by this workflow id) tells a stranger that the
 * account exists. The notice is a child of its own, abandoned: the saga ends as fast as a real one and never waits on
 * SMTP. Operators see `existing_account_notified`.
 */
async function answerAsDecoy(input: ProvisionTenantInput, progress: ProvisioningProgress): Promise<ProvisionTenantResult> {
  await alreadyStartedIsFine(
    startChild(signupAttemptNotice, {
      workflowId: signupNoticeWorkflowId(input.tenantId),
      args: [{ email: input.ownerEmail, signupWorkflowId: workflowInfo().workflowId }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: 'Notice of a signup with a registered address',
    }),
  );
  progress.outcome = 'existing_account_notified';
  progress.currentStep = null;
  metrics.provisioningFinished('existing_account', secondsSinceStart());
  return { tenantId: input.tenantId, slug: input.slug, status: 'existing_account_notified' };
}

/**
 * Runs every compensation, newest first. Transient faults are retried without limit by the activity options; a
 * compensation that fails for good (a non-retryable failure) is recorded and the rest still run, so the saga always
 * ends. Sagas that rolled back before this patch replay as they ran: none of their compensations failed.
 */
async function rollBack(undo: UndoStep[], mark: (name: ProvisioningStep, state: StepState) => void): Promise<FailedCompensation[]> {
  const failed: FailedCompensation[] = [];
  for (const step of undo) {
    mark(step.name, 'compensating');
    try {
      await step.run();
      mark(step.name, 'compensated');
    } catch (error) {
      if (!patched('rollback-continues-past-failures')) throw error;
      mark(step.name, 'compensation_failed');
      failed.push({ step: step.name, cause: failureMessage(error) });
    }
  }
  return failed;
}

/** The tenant is active: its lifecycle workflow takes over from here, and outlives this saga. */
async function startLifecycle(input: ProvisionTenantInput): Promise<void> {
  await alreadyStartedIsFine(
    startChild(tenantLifecycle, {
      workflowId: tenantLifecycleWorkflowId(input.tenantId),
      args: [{ tenantId: input.tenantId, slug: input.slug, state: 'active', defaultRetentionDays: input.defaultRetentionDays ?? DEFAULT_RETENTION_DAYS }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      typedSearchAttributes: [
        { key: TENANT_ID, value: input.tenantId },
        { key: TENANT_LIFECYCLE_STATE, value: 'active' },
      ],
      staticSummary: `Lifecycle of tenant ${input.slug}`,
    }),
  );
}

/** The verification the saga starts: the settings the signup service passed (from config), or the defaults. */
const verificationInput = (input: ProvisionTenantInput) => ({
  tenantId: input.tenantId,
  reminderAfterHours: input.verification?.reminderAfterHours ?? DEFAULT_VERIFICATION_REMINDER_HOURS,
  abandonAfterDays: input.verification?.abandonAfterDays ?? DEFAULT_UNVERIFIED_SIGNUP_DAYS,
});

/** A child already running means a crash came between starting it and recording that: nothing is left to do. */
async function alreadyStartedIsFine(start: Promise<unknown>): Promise<void> {
  try {
    await start;
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}
