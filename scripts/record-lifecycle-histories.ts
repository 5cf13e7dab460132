/**
 * Records tenant lifecycle and offboarding histories for the replay tests from real workflows on a throwaway stack
 * (embedded Postgres and a dev server on free ports). Re-record only for an intended, versioned change: replay tests
 * exist to catch the rest.
 *   npx tsx scripts/record-lifecycle-histories.ts
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import {
  forceCompleteTenantUpdate,
  restoreUpdate,
  softDeleteUpdate,
  suspendUpdate,
  terminateTenantUpdate,
  unsuspendUpdate,
} from '../src/contracts/lifecycle';
import { offboardingWorkflowId } from '../src/temporal/workflow-ids';
import type { tenantLifecycle } from '../workflows/lifecycle';
import { operator, startLifecycle } from '../test/support/lifecycle';
import { createActiveTenant, runInput, startRun } from '../test/support/runs';
import { startBenchStack } from '../bench/stack';

const HISTORIES = path.resolve(__dirname, '../test/replay/histories');

type LifecycleHandle = WorkflowHandle<typeof tenantLifecycle>;

async function main() {
  const stack = await startBenchStack({ FAULT_INJECTION: 'true' });
  const { client, orm } = stack.controlPlane;
  const taskQueue = stack.config.TEMPORAL_TASK_QUEUE;
  const save = async (name: string, history: unknown) => {
    await writeFile(path.join(HISTORIES, `${name}.json`), JSON.stringify(history, null, 1));
    console.log(`recorded ${name}`);
  };
  try {
    const scenarios: Record<string, { overrides?: Parameters<typeof startLifecycle>[3]; drive: (handle: LifecycleHandle, tenantId: string) => Promise<void>; offboards?: boolean }> = {
      'lifecycle-suspend-unsuspend': {
        drive: async (handle) => {
          await handle.executeUpdate(suspendUpdate, { args: [operator('recorded')] });
          await handle.executeUpdate(unsuspendUpdate, { args: [operator('recorded')] });
          await handle.executeUpdate(unsuspendUpdate, { args: [operator('refused at the validator')] }).catch(() => undefined);
        },
      },
      'lifecycle-restored': {
        drive: async (handle) => {
          await handle.executeUpdate(softDeleteUpdate, { args: [{ ...operator('recorded'), retentionDays: 7 }] });
          await handle.executeUpdate(restoreUpdate, { args: [operator('recorded')] });
        },
      },
      'lifecycle-terminated': {
        offboards: true,
        drive: async (handle, tenantId) => {
          await startRun(client, taskQueue, runInput(tenantId, [{ kind: 'credits.debit', amount: 1 }, { kind: 'approval', timeout: '1h' }]));
          await handle.executeUpdate(suspendUpdate, { args: [operator('recorded')] });
          await handle.executeUpdate(terminateTenantUpdate, { args: [operator('recorded')] });
        },
      },
      'lifecycle-force-completed': {
        offboards: true,
        drive: async (handle) => {
          await handle.executeUpdate(softDeleteUpdate, { args: [operator('recorded')] });
          await handle.executeUpdate(forceCompleteTenantUpdate, { args: [operator('recorded')] });
        },
      },
      'lifecycle-continued-as-new': {
        overrides: { historyLimit: 30, transitionFailures: 1 },
        drive: async (handle) => {
          for (let round = 0; round < 2; round += 1) {
            await Promise.allSettled([
              handle.executeUpdate(suspendUpdate, { args: [operator('recorded')] }),
              handle.executeUpdate(suspendUpdate, { args: [operator('recorded: loses the race')] }),
            ]);
            await handle.executeUpdate(unsuspendUpdate, { args: [operator('recorded')] });
          }
        },
      },
    };
    for (const [name, scenario] of Object.entries(scenarios)) {
      const tenant = await createActiveTenant(orm, { slug: `replay-${name.replace('lifecycle-', '')}` });
      const handle = await startLifecycle(client, taskQueue, tenant.tenantId, scenario.overrides);
      await scenario.drive(handle, tenant.tenantId);
      if (scenario.offboards) {
        await handle.result();
        await save(name, await handle.fetchHistory());
        await save(name.replace('lifecycle-', 'offboarding-'), await client.workflow.getHandle(offboardingWorkflowId(tenant.tenantId)).fetchHistory());
        continue;
      }
      // A first run that continued as new ends there; a tenant that lives on is recorded as it stands.
      const first = client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId);
      await save(name, await first.fetchHistory());
      await handle.terminate('recorded');
    }
  } finally {
    await stack.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
