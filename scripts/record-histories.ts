/**
 * Records the workflow histories the replay tests feed to today's code, from real workflows on a throwaway stack
 * (embedded Postgres and a dev server on free ports). Every history already on disk is kept: record again only for
 * an intended, versioned change, and give a changed workflow a history of its new path under a new name.
 *   npx tsx scripts/record-histories.ts [--force | --force=<name>,<name>]
 * Then it stamps test/replay/workflow-sources.json with the workflow code it recorded against; a test fails while a
 * workflow file differs from that stamp, so no workflow change ships without this step.
 */
import { NativeConnection } from '@temporalio/worker';
import { startBenchStack } from '../bench/stack';
import { ActivityFaults } from '../tools/fixtures/activity-faults';
import { createControlPlaneWorker } from '../workers/control-plane-worker';
import { RECORDING_MAIL, recordAccountHistories } from './histories/accounts';
import { recordLifecycleHistories } from './histories/lifecycle';
import { recordProvisioningHistories } from './histories/provisioning';
import { HistoryRecorder, type RecordingRig } from './histories/recorder';
import { recordRunHistories } from './histories/runs';
import { recordTimerHistories } from './histories/timers';
import { writeWorkflowSourceStamp } from './histories/workflow-sources';

async function main() {
  const recorder = HistoryRecorder.fromArguments(process.argv.slice(2));
  const stack = await startBenchStack();
  const connection = await NativeConnection.connect({ address: stack.config.TEMPORAL_ADDRESS });
  try {
    // Scenarios run on a worker of their own, the stack's own worker idle beside it: only this one injects faults.
    const { client, orm, metrics, events } = stack.controlPlane;
    const faults = new ActivityFaults();
    const rig: RecordingRig = { client, orm, taskQueue: `${stack.config.TEMPORAL_TASK_QUEUE}-recording`, faults };
    const worker = await createControlPlaneWorker({
      connection,
      namespace: stack.config.TEMPORAL_NAMESPACE,
      taskQueue: rig.taskQueue,
      orm,
      metrics,
      events,
      activityInterceptors: [faults.interceptor],
      mail: RECORDING_MAIL,
    });
    await worker.runUntil(async () => {
      for (const family of [recordProvisioningHistories, recordLifecycleHistories, recordRunHistories, recordTimerHistories, recordAccountHistories]) await family(rig, recorder);
    });
  } finally {
    await connection.close();
    await stack.stop();
  }
  await writeWorkflowSourceStamp();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
