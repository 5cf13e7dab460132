import { Worker } from '@temporalio/worker';
import { loadHistories } from '../support/histories';
import { workflowBundle } from '../support/stack';

/**
 * Replays histories recorded from real runs (scripts/record-provisioning-histories.ts) against today's workflow code. A change that
 * would break running workflows fails here; ship it behind patched() or as a new workflow type.
 */
describe('replay of recorded provisioning histories', () => {
  it('replays every recorded provisioning history without nondeterminism', async () => {
    const histories = await loadHistories('provisioning-');
    expect(histories.length).toBeGreaterThanOrEqual(3);
    const results = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories)) results.push(result);
    expect(results.map((result) => [result.workflowId, result.error?.message])).toEqual(histories.map(({ workflowId }) => [workflowId, undefined]));
  });
});
