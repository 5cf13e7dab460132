import type { WorkflowHandle } from '@temporalio/client';
import {
  forceCompleteTenantUpdate,
  restoreUpdate,
  softDeleteUpdate,
  suspendUpdate,
  terminateTenantUpdate,
  unsuspendUpdate,
  type TenantLifecycleInput,
} from '../../src/contracts/lifecycle';
import { offboardingWorkflowId } from '../../src/temporal/workflow-ids';
import { slowLifecycleTransitions } from '../../tools/fixtures/activity-faults';
import { operator, startLifecycle } from '../../tools/fixtures/lifecycle';
import { createActiveTenant, runInput, startRun } from '../../tools/fixtures/runs';
import type { tenantLifecycle } from '../../workflows/lifecycle';
import type { HistoryFamily } from './recorder';

type LifecycleHandle = WorkflowHandle<typeof tenantLifecycle>;

interface LifecycleScenario {
  overrides?: Partial<TenantLifecycleInput>;
  drive(handle: LifecycleHandle, tenantId: string): Promise<void>;
  /** The scenario ends in offboarding: the child's history is recorded too. */
  offboards?: boolean;
  /** Each status change fails once before it commits, so two operators' updates overlap. */
  slowTransitions?: boolean;
}

/**
 * The generation of lifecycle code these scenarios record. Histories of older generations stay on disk under their
 * own prefix: `lifecycle-` before the patch 'lifecycle-safe-message-handlers', `lifecycle-safe-handlers-` before the
 * run and tenant updates got distinct names. Bump it with the next change to the lifecycle.
 */
const GENERATION = 'lifecycle-distinct-updates-';

/** Tenant lifecycles: every transition, a refusal, a race of two operators, continue-as-new, both ways to offboard. */
export const recordLifecycleHistories: HistoryFamily = async (rig, recorder) => {
  const { client, orm, taskQueue } = rig;
  const scenarios: Record<string, LifecycleScenario> = {
    'suspend-unsuspend': {
      drive: async (handle) => {
        await handle.executeUpdate(suspendUpdate, { args: [operator('recorded')] });
        await handle.executeUpdate(unsuspendUpdate, { args: [operator('recorded')] });
        await handle.executeUpdate(unsuspendUpdate, { args: [operator('refused at the validator')] }).catch(() => undefined);
      },
    },
    restored: {
      drive: async (handle) => {
        await handle.executeUpdate(softDeleteUpdate, { args: [{ ...operator('recorded'), retentionDays: 7 }] });
        await handle.executeUpdate(restoreUpdate, { args: [operator('recorded')] });
      },
    },
    terminated: {
      offboards: true,
      drive: async (handle, tenantId) => {
        await startRun(client, taskQueue, runInput(tenantId, [{ kind: 'credits.debit', amount: 1 }, { kind: 'approval', timeout: '1h' }]));
        await handle.executeUpdate(suspendUpdate, { args: [operator('recorded')] });
        await handle.executeUpdate(terminateTenantUpdate, { args: [operator('recorded')] });
      },
    },
    'force-completed': {
      offboards: true,
      drive: async (handle) => {
        await handle.executeUpdate(softDeleteUpdate, { args: [operator('recorded')] });
        await handle.executeUpdate(forceCompleteTenantUpdate, { args: [operator('recorded')] });
      },
    },
    'continued-as-new': {
      overrides: { testHooks: { historyLimit: 30 } },
      slowTransitions: true,
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

  for (const [scenario, { overrides, drive, offboards, slowTransitions }] of Object.entries(scenarios)) {
    const name = `${GENERATION}${scenario}`;
    const offboardingName = `offboarding-${scenario}`;
    if (!recorder.wants(name, ...(offboards ? [offboardingName] : []))) continue;
    const tenant = await createActiveTenant(orm, { slug: `replay-${scenario}-${Date.now().toString(36)}` });
    if (slowTransitions) rig.faults.add(slowLifecycleTransitions(tenant.tenantId, 1));
    const handle = await startLifecycle(client, taskQueue, tenant.tenantId, overrides);
    await drive(handle, tenant.tenantId);
    if (offboards) {
      await handle.result();
      await recorder.save(name, await handle.fetchHistory());
      await recorder.save(offboardingName, await client.workflow.getHandle(offboardingWorkflowId(tenant.tenantId)).fetchHistory());
      continue;
    }
    // A first run that continued as new ends there; a tenant that lives on is recorded as it stands.
    await recorder.save(name, await client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).fetchHistory());
    await handle.terminate('recorded');
  }
};
