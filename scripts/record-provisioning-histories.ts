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
import { provisioningWorkflowId } from '../src/temporal/workflow-ids';
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
        if (existsSync(path.join(HISTORIES, `${name}.json`)) && !process.argv.includes('--force')) continue;
        const handle = await client.workflow.start('provisionTenant', { taskQueue: TASK_QUEUE, workflowId: provisioningWorkflowId(input.slug), args: [input] });
        await handle.result().catch(() => undefined);
        await writeFile(path.join(HISTORIES, `${name}.json`), JSON.stringify(await handle.fetchHistory(), null, 1));
        console.log(`recorded ${name}`);
      }
    }
  } finally {
    await stack.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
