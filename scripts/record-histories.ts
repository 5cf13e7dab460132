/**
 * Records the workflow histories the replay tests feed to today's code, from real workflows on a throwaway stack
 * (embedded Postgres and a dev server on free ports). Every history already on disk is kept: record again only for
 * an intended, versioned change, and give a changed workflow a history of its new path under a new name.
 *   npx tsx scripts/record-histories.ts [--force | --force=<name>,<name>]
 * Then it stamps test/replay/workflow-sources.json with the workflow code it recorded against; a test fails while a
 * workflow file differs from that stamp, so no workflow change ships without this step.
 */
import { startBenchStack } from '../bench/stack';
import { recordLifecycleHistories } from './histories/lifecycle';
import { recordProvisioningHistories } from './histories/provisioning';
import { HistoryRecorder } from './histories/recorder';
import { recordRunHistories } from './histories/runs';
import { writeWorkflowSourceStamp } from './histories/workflow-sources';

async function main() {
  const recorder = HistoryRecorder.fromArguments(process.argv.slice(2));
  const stack = await startBenchStack({ FAULT_INJECTION: 'true' });
  try {
    for (const family of [recordProvisioningHistories, recordLifecycleHistories, recordRunHistories]) await family(stack, recorder);
  } finally {
    await stack.stop();
  }
  await writeWorkflowSourceStamp();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
