import { NativeConnection } from '@temporalio/worker';
import type { ProvisionTenantInput } from '../../src/contracts/provisioning';
import { provisioningWorkflowId } from '../../src/temporal/workflow-ids';
import { removeOwnerViolatesAConstraint } from '../../tools/fixtures/compensation-faults';
import { provisionInput } from '../../tools/fixtures/provisioning';
import { createControlPlaneWorker } from '../../workers/control-plane-worker';
import type { HistoryFamily } from './recorder';

/**
 * Provisioning sagas, including those recorded before each patch: before provisioning started the lifecycle
 * workflow, before its forward steps were local activities, before a rollback went on past a failed compensation.
 */
export const recordProvisioningHistories: HistoryFamily = async (stack, recorder) => {
  const { client } = stack.controlPlane;
  const record = async (name: string, input: ProvisionTenantInput, taskQueue = stack.config.TEMPORAL_TASK_QUEUE) => {
    if (!recorder.wants(name)) return;
    const handle = await client.workflow.start('provisionTenant', { taskQueue, workflowId: provisioningWorkflowId(input.slug), args: [input] });
    await handle.result().catch(() => undefined);
    await recorder.save(name, await handle.fetchHistory());
  };

  const scenarios: Record<string, ProvisionTenantInput> = {
    'provisioning-active': provisionInput({ slug: 'replay-active' }),
    'provisioning-transient-retry': provisionInput({ slug: 'replay-transient', faultPlan: { step: 'createOwner', mode: 'transient', failures: 1 } }),
    'provisioning-rolled-back': provisionInput({ slug: 'replay-rollback', faultPlan: { step: 'createTenantSchema', mode: 'permanent' } }),
    'provisioning-starts-lifecycle': provisionInput({ slug: 'replay-lifecycle' }),
    'provisioning-starts-trial': provisionInput({ slug: 'replay-trial' }),
    'provisioning-local-steps-active': provisionInput({ slug: 'replay-local-active' }),
    'provisioning-local-steps-transient-retry': provisionInput({ slug: 'replay-local-transient', faultPlan: { step: 'createOwner', mode: 'transient', failures: 1 } }),
    'provisioning-local-steps-rolled-back': provisionInput({ slug: 'replay-local-rollback', faultPlan: { step: 'createTenantSchema', mode: 'permanent' } }),
  };
  for (const [name, input] of Object.entries(scenarios)) await record(name, input);

  // A compensation that fails for good (patched 'rollback-continues-past-failures'): a worker whose removeOwner fails
  // as Postgres does on a constraint, on a task queue of its own.
  if (!recorder.wants('provisioning-rollback-incomplete')) return;
  const faultyQueue = `${stack.config.TEMPORAL_TASK_QUEUE}-faulty-compensation`;
  const connection = await NativeConnection.connect({ address: stack.config.TEMPORAL_ADDRESS });
  try {
    const worker = await createControlPlaneWorker({
      connection,
      namespace: stack.config.TEMPORAL_NAMESPACE,
      taskQueue: faultyQueue,
      orm: stack.controlPlane.orm,
      metrics: stack.controlPlane.metrics,
      events: stack.controlPlane.events,
      faultInjection: true,
      activityInterceptors: [removeOwnerViolatesAConstraint],
    });
    const input = provisionInput({ slug: 'replay-rollback-incomplete', faultPlan: { step: 'createTenantSchema', mode: 'permanent' } });
    await worker.runUntil(record('provisioning-rollback-incomplete', input, faultyQueue));
  } finally {
    await connection.close();
  }
};
