import { billingTrialWorkflowId } from '../../src/temporal/workflow-ids';
import { createActiveTenant } from '../../tools/fixtures/runs';
import type { HistoryFamily } from './recorder';

/**
 * The billing trial timer and the scheduled passes (the reconciler, the lifecycle supervisor, the reservation sweep). A trial that ended long
 * ago runs every branch of the timer at once (trial → grace → expired) with no wait, as would one whose worker was
 * down for its whole grace period.
 */
export const recordTimerHistories: HistoryFamily = async (rig, recorder) => {
  const { client, orm, taskQueue } = rig;
  // `passed`: the schedule comes in the input, as the provisioning saga passes it; otherwise the timer reads it.
  const trials: Record<string, { trialEndedDaysAgo: number | null; state: string; passed?: boolean }> = {
    'billing-trial-expired': { trialEndedDaysAgo: 60, state: 'trial' },
    'billing-trial-superseded': { trialEndedDaysAgo: null, state: 'active' },
    'billing-trial-passed-schedule-expired': { trialEndedDaysAgo: 60, state: 'trial', passed: true },
  };
  for (const [name, { trialEndedDaysAgo, state, passed }] of Object.entries(trials)) {
    if (!recorder.wants(name)) continue;
    const tenant = await createActiveTenant(orm, { slug: `replay-${name}-${Date.now().toString(36)}` });
    await orm.em
      .fork()
      .execute(`update billing_account set subscription_state = ?, trial_ends_at = case when ?::int is null then trial_ends_at else now() - make_interval(days => ?::int) end where tenant_id = ?`, [
        state,
        trialEndedDaysAgo,
        trialEndedDaysAgo,
        tenant.tenantId,
      ]);
    const [account] = await orm.em.fork().execute<Array<{ subscription_state: string; trial_ends_at: Date | string }>>(`select subscription_state, trial_ends_at from billing_account where tenant_id = ?`, [tenant.tenantId]);
    const schedule = { subscriptionState: account!.subscription_state, trialEndsAt: new Date(account!.trial_ends_at).toISOString() };
    const args = [{ tenantId: tenant.tenantId, ...(passed ? { schedule } : {}) }];
    const handle = await client.workflow.start('billingTrial', { taskQueue, workflowId: billingTrialWorkflowId(tenant.tenantId), args });
    await handle.result();
    await recorder.save(name, await handle.fetchHistory());
  }

  if (recorder.wants('reconciler-pass')) {
    const pass = await client.workflow.start('reconcileRunAudits', { taskQueue, workflowId: `replay-reconciler-${Date.now().toString(36)}`, args: [{}] });
    await pass.result();
    await recorder.save('reconciler-pass', await pass.fetchHistory());
  }

  if (recorder.wants('reconciler-sweep-pass')) {
    // Three unfinished runs and batches of one: the pass ('reconciler-sweeps-backlog') loops until its sweep ends.
    await orm.em.fork().execute(
      `insert into run (id, tenant_id, workflow_id, phase, plan, step_states, degraded, submitted_by, finalize_deadline)
         select gen_random_uuid(), gen_random_uuid(), 'run:replay-sweep-' || g, 'EXECUTING', '{"steps":[]}', '[]', false, 'user:replay', now() + interval '1 hour'
           from generate_series(1, 3) g`,
    );
    const pass = await client.workflow.start('reconcileRunAudits', { taskQueue, workflowId: `replay-reconciler-sweep-${Date.now().toString(36)}`, args: [{ batchSize: 1 }] });
    await pass.result();
    await recorder.save('reconciler-sweep-pass', await pass.fetchHistory());
  }

  if (recorder.wants('supervisor-pass')) {
    // Two tenants with no lifecycle workflow and pages of one: the pass restarts both, a page at a time.
    for (const index of [1, 2]) await createActiveTenant(orm, { slug: `replay-supervised-${index}-${Date.now().toString(36)}` });
    const pass = await client.workflow.start('superviseTenantLifecycles', {
      taskQueue,
      workflowId: `replay-supervisor-${Date.now().toString(36)}`,
      args: [{ defaultRetentionDays: 30, pageSize: 1 }],
    });
    await pass.result();
    await recorder.save('supervisor-pass', await pass.fetchHistory());
  }

  if (recorder.wants('reservation-sweep-pass')) {
    // Two reservations whose workflow never started, admitted long ago, and pages of one: both are released.
    const tenant = await createActiveTenant(orm, { slug: `replay-stranded-${Date.now().toString(36)}` });
    await orm.em.fork().execute(
      `insert into run (id, tenant_id, workflow_id, phase, plan, step_states, degraded, submitted_by, finalize_deadline, created_at)
         select gen_random_uuid(), ?, 'run:replay-stranded-' || g, 'CREATED', '{"steps":[]}', '[]', false, 'user:replay', now() + interval '1 hour', now() - interval '1 hour'
           from generate_series(1, 2) g`,
      [tenant.tenantId],
    );
    const pass = await client.workflow.start('releaseStrandedRuns', { taskQueue, workflowId: `replay-reservation-sweep-${Date.now().toString(36)}`, args: [{ pageSize: 1 }] });
    await pass.result();
    await recorder.save('reservation-sweep-pass', await pass.fetchHistory());
  }
};
