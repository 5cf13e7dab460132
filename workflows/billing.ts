import { ParentClosePolicy, proxyActivities, setHandler, sleep, startChild, workflowInfo } from '@temporalio/workflow';
import type { BillingActivities } from '../activities/billing';
import { billingTrialStatusQuery, type BillingTrialInput, type BillingTrialStatus, type TrialSchedule } from '../src/contracts/billing';
import { GRACE_DAYS } from '../src/domain/limits';
import { TENANT_ID } from '../src/temporal/search-attributes';
import { billingTrialWorkflowId } from '../src/temporal/workflow-ids';
import { DAY_MS } from '../src/domain/duration';

// Each transition is one guarded UPDATE: retried with backoff until the database answers, for as long as it takes.
const billing = proxyActivities<BillingActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});


/** A durable wait until an absolute time: a worker restart or a replay resumes it, never restarts it. */
async function sleepUntil(at: number): Promise<void> {
  const remaining = at - Date.now();
  if (remaining > 0) await sleep(remaining);
}

/**
 * The trial's clock: trial until billing_account.trial_ends_at, then grace for GRACE_DAYS, then expired. The timer
 * only ever moves a subscription along that path; if anything else moved it first (a payment, an operator), the
 * guarded update does nothing and the timer ends as `superseded`.
 */
export async function billingTrial(input: BillingTrialInput): Promise<BillingTrialStatus> {
  const status: BillingTrialStatus = { tenantId: input.tenantId, phase: 'trial', trialEndsAt: null, graceEndsAt: null, subscriptionState: null };
  setHandler(billingTrialStatusQuery, () => status);
  const workflowId = workflowInfo().workflowId;

  const schedule = input.schedule ?? (await billing.readTrialSchedule({ tenantId: input.tenantId }));
  if (!schedule) return { ...status, phase: 'closed' };
  status.subscriptionState = schedule.subscriptionState;
  if (schedule.trialEndsAt === null || !['trial', 'grace'].includes(schedule.subscriptionState)) return Object.assign(status, { phase: 'superseded' });

  const trialEndsAt = Date.parse(schedule.trialEndsAt);
  const graceEndsAt = trialEndsAt + GRACE_DAYS * DAY_MS;
  status.trialEndsAt = schedule.trialEndsAt;
  status.graceEndsAt = new Date(graceEndsAt).toISOString();
  const transition = { tenantId: input.tenantId, workflowId, trialEndsAt: schedule.trialEndsAt };

  if (schedule.subscriptionState === 'trial') {
    await sleepUntil(trialEndsAt);
    status.subscriptionState = await billing.endTrial(transition);
    if (status.subscriptionState === null) return Object.assign(status, { phase: 'closed' });
    if (status.subscriptionState !== 'grace') return Object.assign(status, { phase: 'superseded' });
  }
  status.phase = 'grace';
  await sleepUntil(graceEndsAt);
  status.subscriptionState = await billing.expireGrace(transition);
  if (status.subscriptionState === null) return Object.assign(status, { phase: 'closed' });
  return Object.assign(status, { phase: status.subscriptionState === 'expired' ? 'expired' : 'superseded' });
}

/**
 * Starts a tenant's trial timer from another workflow (the provisioning saga, once the tenant is active). Abandoned
 * on parent close: the timer outlives the saga by weeks. One timer per tenant: the id is derived from the tenant.
 */
export async function startBillingTrialChild(tenantId: string, schedule?: TrialSchedule): Promise<void> {
  await startChild(billingTrial, {
    workflowId: billingTrialWorkflowId(tenantId),
    args: [{ tenantId, ...(schedule ? { schedule } : {}) }],
    parentClosePolicy: ParentClosePolicy.ABANDON,
    typedSearchAttributes: [{ key: TENANT_ID, value: tenantId }],
    staticSummary: `Billing trial timer of tenant ${tenantId}`,
  });
}
