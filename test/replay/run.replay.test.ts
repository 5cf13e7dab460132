import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../support/stack';

const HISTORIES = path.resolve(__dirname, 'histories');

/** Recorded run histories as protobuf objects (History.fromObject keeps jest's duplicated protobufjs out of the way). */
async function runHistories() {
  const files = (await readdir(HISTORIES)).filter((file) => file.startsWith('run-') && file.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => ({
      workflowId: file.replace(/\.json$/, ''),
      history: temporal.api.history.v1.History.fromObject(JSON.parse(await readFile(path.join(HISTORIES, file), 'utf8'))),
    })),
  );
}

/**
 * Replays run histories recorded from real runs (scripts/record-run-histories.ts) against today's workflow code: a
 * completed run, rollbacks (step fault, governance, terminate), a transient retry, an approval and a force-complete.
 * A change that would break running workflows fails here; ship it behind patched() or as a new workflow type.
 */
describe('replay of recorded run histories', () => {
  it('replays every recorded run history without nondeterminism', async () => {
    const histories = await runHistories();
    expect(histories.map(({ workflowId }) => workflowId)).toEqual([
      'run-approval-granted',
      'run-completed',
      'run-force-completed',
      'run-governance-rejected',
      'run-rolled-back',
      'run-terminated',
      'run-transient-retry',
    ]);
    const results = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories)) results.push(result);
    expect(results.map((result) => [result.workflowId, result.error?.message])).toEqual(histories.map(({ workflowId }) => [workflowId, undefined]));
  });
});
