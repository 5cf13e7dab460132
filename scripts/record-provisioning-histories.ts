/**
 * Records provisioning histories for the replay tests from real runs on a throwaway stack (embedded Postgres and a dev
 * server on free ports). Re-record only for an intended, versioned change: replay tests exist to catch the rest.
 * A history already on disk is kept (`--force` re-records it): the older ones prove that sagas started by older code
 * still replay, such as the ones recorded before provisioning started the lifecycle workflow (patched()).
 *   npx tsx scripts/record-provisioning-histories.ts [--force]
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import type { ProvisionTenantInput } from '../src/contracts/provisioning';
import { provisioningWorkflowId } from '../src/temporal/workflow-ids';
import { createControlPlaneWorker } from '../workers/control-plane-worker';
import { removeOwnerViolatesAConstraint } from '../test/support/compensation-faults';
import { provisionInput } from '../test/support/provisioning';
import { startBenchStack } from '../bench/stack';

const HISTORIES = path.resolve(__dirname, '../test/replay/histories');

async function main() {
  const stack = await startBenchStack({ FAULT_INJECTION: 'true' });
  const { client } = stack.controlPlane;
  const TASK_QUEUE = stack.config.TEMPORAL_TASK_QUEUE;
  try {
    {
      const scenarios = {
        'provisioning-active': provisionInput({ slug: 'replay-active' }),
        'provisioning-transient-retry': provisionInput({ slug: 'replay-transient', faultPlan: { step: 'createOwner', mode: 'transient', failures: 1 } }),
        'provisioning-rolled-back': provisionInput({ slug: 'replay-rollback', faultPlan: { step: 'createTenantSchema', mode: 'permanent' } }),
        'provisioning-starts-lifecycle': provisionInput({ slug: 'replay-lifecycle' }),
        'provisioning-starts-trial': provisionInput({ slug: 'replay-trial' }),
        'provisioning-local-steps-active': provisionInput({ slug: 'replay-local-active' }),
        'provisioning-local-steps-transient-retry': provisionInput({ slug: 'replay-local-transient', faultPlan: { step: 'createOwner', mode: 'transient', failures: 1 } }),
        'provisioning-local-steps-rolled-back': provisionInput({ slug: 'replay-local-rollback', faultPlan: { step: 'createTenantSchema', mode: 'permanent' } }),
      };
      for (const [name, input] of Object.entries(scenarios)) {
        await record(name, input, TASK_QUEUE);
      }
    }
    {
      // A compensation that fails for good (patched 'rollback-continues-past-failures'): a worker whose removeOwner
      // fails as Postgres does on a constraint, on a task queue of its own.
      const faultyQueue = `${TASK_QUEUE}-faulty-compensation`;
      const connection = await NativeConnection.connect({ address: stack.config.TEMPORAL_ADDRESS });
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
      await worker.runUntil(
        record('provisioning-rollback-incomplete', provisionInput({ slug: 'replay-rollback-incomplete', faultPlan: { step: 'createTenantSchema', mode: 'permanent' } }), faultyQueue),
      );
      await connection.close();
    }
  } finally {
    await stack.stop();
  }

  async function record(name: string, input: ProvisionTenantInput, taskQueue: string) {
    if (existsSync(path.join(HISTORIES, `${name}.json`)) && !process.argv.includes('--force')) return;
    const handle = await client.workflow.start('provisionTenant', { taskQueue, workflowId: provisioningWorkflowId(input.slug), args: [input] });
    await handle.result().catch(() => undefined);
    await writeFile(path.join(HISTORIES, `${name}.json`), JSON.stringify(await handle.fetchHistory(), null, 1));
    console.log(`recorded ${name}`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
