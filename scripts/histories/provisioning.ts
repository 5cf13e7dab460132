import { ApplicationFailure } from '@temporalio/common';
import { ProvisioningFailure, type ProvisionTenantInput } from '../../src/contracts/provisioning';
import { provisioningWorkflowId } from '../../src/temporal/workflow-ids';
import { provisioningStepFault, removeOwnerViolatesAConstraint, type ActivityFault } from '../../tools/fixtures/activity-faults';
import { provisionInput } from '../../tools/fixtures/provisioning';
import type { HistoryFamily } from './recorder';

/**
 * Provisioning sagas, including those recorded before each patch: before provisioning started the lifecycle
 * workflow, before its forward steps were local activities, before a rollback went on past a failed compensation,
 * before it started the owner's email verification, before it passed the trial's schedule to the trial timer.
 */
export const recordProvisioningHistories: HistoryFamily = async (rig, recorder) => {
  const { client } = rig;
  const record = async (name: string, input: ProvisionTenantInput) => {
    if (!recorder.wants(name)) return;
    const handle = await client.workflow.start('provisionTenant', { taskQueue: rig.taskQueue, workflowId: provisioningWorkflowId(input.slug), args: [input] });
    await handle.result().catch(() => undefined);
    await recorder.save(name, await handle.fetchHistory());
  };

  const transient = (slug: string) => provisioningStepFault(slug, 'createOwner', 'transient', 1);
  const permanent = (slug: string) => provisioningStepFault(slug, 'createTenantSchema', 'permanent');
  const scenarios: Record<string, { slug: string; fault?: (slug: string) => ActivityFault }> = {
    'provisioning-active': { slug: 'replay-active' },
    'provisioning-transient-retry': { slug: 'replay-transient', fault: transient },
    'provisioning-rolled-back': { slug: 'replay-rollback', fault: permanent },
    'provisioning-starts-lifecycle': { slug: 'replay-lifecycle' },
    'provisioning-starts-trial': { slug: 'replay-trial' },
    'provisioning-local-steps-active': { slug: 'replay-local-active' },
    'provisioning-local-steps-transient-retry': { slug: 'replay-local-transient', fault: transient },
    'provisioning-local-steps-rolled-back': { slug: 'replay-local-rollback', fault: permanent },
    'provisioning-starts-verification': { slug: 'replay-verification' },
    'provisioning-passes-trial-schedule': { slug: 'replay-trial-schedule' },
  };
  for (const [name, { slug, fault }] of Object.entries(scenarios)) {
    if (fault) rig.faults.add(fault(slug));
    await record(name, provisionInput({ slug }));
  }

  // A compensation that fails for good (patched 'rollback-continues-past-failures'): removeOwner fails as Postgres does
  // on a constraint.
  rig.faults.add(permanent('replay-rollback-incomplete')).add(removeOwnerViolatesAConstraint('replay-rollback-incomplete'));
  await record('provisioning-rollback-incomplete', provisionInput({ slug: 'replay-rollback-incomplete' }));

  // An address that already has an account (patched 'registered-email-decoy'): the saga reserves nothing, starts the
  // owner's notice and completes as a signup does. A first signup, not recorded, gives the address its account.
  if (recorder.wants('provisioning-registered-email-decoy')) {
    const owner = provisionInput({ slug: 'replay-registered-owner' });
    await client.workflow.execute('provisionTenant', { taskQueue: rig.taskQueue, workflowId: provisioningWorkflowId(owner.slug), args: [owner] });
    await record('provisioning-registered-email-decoy', provisionInput({ slug: 'replay-registered-email', ownerEmail: owner.ownerEmail }));
  }
  // The race of that patch: the address gets its account between the screening and createOwner, so the saga rolls
  // back and ends as the decoy does.
  rig.faults.add({
    workflowId: provisioningWorkflowId('replay-registered-race'),
    activity: 'createOwner',
    when: 'before',
    mode: 'permanent',
    error: () => ApplicationFailure.create({ type: ProvisioningFailure.EmailRegistered, message: 'the email belongs to an existing account', nonRetryable: true }),
  });
  await record('provisioning-registered-email-race', provisionInput({ slug: 'replay-registered-race' }));
};
