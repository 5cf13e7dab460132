import { replayHistories } from '../support/histories';

/**
 * Replays run histories recorded from real runs (scripts/record-histories.ts) against today's workflow code: a
 * completed run, rollbacks (step fault, governance, terminate), a transient retry, an approval and a force-complete.
 * A change that would break running workflows fails here; ship it behind patched() or as a new workflow type.
 */
describe('replay of recorded run histories', () => {
  it('replays every recorded run history without nondeterminism', async () => {
    const { names, outcomes } = await replayHistories('run-');
    expect(names).toEqual([
      'run-approval-granted',
      'run-completed',
      'run-force-completed',
      'run-governance-rejected',
      'run-rolled-back',
      'run-terminated',
      'run-transient-retry',
    ]);
    expect(outcomes).toEqual(names.map((name) => [name, undefined]));
  });
});
