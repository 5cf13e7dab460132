import type { WorkflowHandle } from '@temporalio/client';
import { approveRunUpdate, forceCompleteRunUpdate, runStatusQuery, terminateRunUpdate, type RunInput, type RunStatus } from '../../src/contracts/run';
import { setPolicyRule } from '../../src/db/policy-rules';
import { openRunRecords } from '../../src/db/run-opening';
import { runWorkflowId } from '../../src/temporal/workflow-ids';
import { createActiveTenant, runInput, seedRecord, startRun } from '../../tools/fixtures/runs';
import type { runWorkflow } from '../../workflows/run';
import { runStepFault, type ActivityFault } from '../../tools/fixtures/activity-faults';
import type { HistoryFamily } from './recorder';

type RunHandle = WorkflowHandle<typeof runWorkflow>;

async function until(handle: RunHandle, condition: (status: RunStatus) => boolean): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    if (condition(await handle.query(runStatusQuery))) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the run never reached the awaited state');
}

/**
 * The generation of run code these scenarios record. Histories of older generations stay on disk under their own
 * prefix (`run-`: before the run and tenant updates got distinct names; `run-distinct-updates-`: before the lean
 * bookkeeping path, patch `lean-run-bookkeeping`; `run-lean-bookkeeping-`: before patch `close-with-governance`); bump it
 * with the next change to the run.
 */
const GENERATION = 'run-close-with-governance-';

/** Runs: completed, rolled back, retried, approved, terminated, force-completed, refused by governance. */
export const recordRunHistories: HistoryFamily = async (rig, recorder) => {
  const { client, orm, taskQueue } = rig;
  const tenant = await createActiveTenant(orm, { slug: `replay-runs-${Date.now().toString(36)}` });
  await seedRecord(orm, tenant.tenantId, 'legacy', { old: true });
  const five: RunInput['plan']['steps'] = [
    { kind: 'records.write', key: 'profile', value: { plan: 'gold' } },
    { kind: 'credits.debit', amount: 30 },
    { kind: 'wait', duration: '1s' },
    { kind: 'credits.refund', amount: 5 },
    { kind: 'records.delete', key: 'legacy' },
  ];
  // Runs are admitted as the API admits them (opening records written, `admitted` set), except the one started directly.
  const scenarios: Record<
    string,
    { input: RunInput; direct?: boolean; drive?: (handle: RunHandle) => Promise<void>; before?: () => Promise<void>; fault?: (runId: string) => ActivityFault }
  > = {
    completed: { input: runInput(tenant.tenantId, five) },
    'started-directly': { input: runInput(tenant.tenantId, five.slice(0, 2)), direct: true },
    'rolled-back': { input: runInput(tenant.tenantId, five), fault: (runId) => runStepFault(runId, 3, 'permanent') },
    'transient-retry': { input: runInput(tenant.tenantId, five.slice(0, 2)), fault: (runId) => runStepFault(runId, 1, 'transient', 1) },
    'approval-granted': {
      input: runInput(tenant.tenantId, [{ kind: 'records.write', key: 'a', value: 1 }, { kind: 'approval', timeout: '1h' }]),
      drive: async (handle) => {
        await until(handle, (status) => status.pendingApproval !== null);
        await handle.executeUpdate(approveRunUpdate, { args: [{ actor: 'user:recorder', note: 'recorded' }] });
      },
    },
    terminated: {
      input: runInput(tenant.tenantId, [{ kind: 'credits.debit', amount: 2 }, { kind: 'wait', duration: '1h' }]),
      drive: async (handle) => {
        await until(handle, (status) => status.steps[1]!.state === 'running');
        await handle.executeUpdate(terminateRunUpdate, { args: [{ actor: 'operator', reason: 'recorded' }] });
      },
    },
    'force-completed': {
      input: runInput(tenant.tenantId, [{ kind: 'credits.debit', amount: 2 }, { kind: 'wait', duration: '1h' }]),
      drive: async (handle) => {
        await until(handle, (status) => status.steps[1]!.state === 'running');
        await handle.executeUpdate(forceCompleteRunUpdate, { args: [{ actor: 'operator', reason: 'recorded' }] });
      },
    },
    'governance-rejected': {
      input: runInput(tenant.tenantId, [{ kind: 'credits.debit', amount: 500 }]),
      before: async () => {
        await setPolicyRule(orm.em.fork(), tenant.tenantId, 'max_debit_total', { limit: 100 });
      },
    },
  };
  for (const [scenarioName, scenario] of Object.entries(scenarios)) {
    const name = `${GENERATION}${scenarioName}`;
    if (!recorder.wants(name)) continue;
    await scenario.before?.();
    if (scenario.fault) rig.faults.add(scenario.fault(scenario.input.runId));
    if (!scenario.direct) {
      const workflowId = runWorkflowId(scenario.input.runId);
      await orm.em.fork().transactional((em) => openRunRecords(em, { ...scenario.input, workflowId }, { now: new Date() }));
    }
    const handle = await startRun(client, taskQueue, scenario.direct ? scenario.input : { ...scenario.input, admitted: true });
    await scenario.drive?.(handle);
    await handle.result().catch(() => undefined);
    await recorder.save(name, await handle.fetchHistory());
  }
};
