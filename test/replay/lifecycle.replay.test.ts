import { replayHistories } from '../support/histories';

/**
 * Replays tenant lifecycle and offboarding histories recorded from real workflows (scripts/record-lifecycle-histories.ts)
 * against today's code: transitions, a refusal, restore, terminate with a run in flight, force-complete of a
 * retention wait, and a run that continued as new. A change that would break a live tenant's workflow fails here.
 */
describe('replay of recorded lifecycle histories', () => {
  it('replays every recorded lifecycle history without nondeterminism', async () => {
    const { names, outcomes } = await replayHistories('lifecycle-');
    expect(names).toEqual(['lifecycle-continued-as-new', 'lifecycle-force-completed', 'lifecycle-restored', 'lifecycle-suspend-unsuspend', 'lifecycle-terminated']);
    expect(outcomes).toEqual(names.map((name) => [name, undefined]));
  });

  it('replays every recorded offboarding history without nondeterminism', async () => {
    const { names, outcomes } = await replayHistories('offboarding-');
    expect(names).toEqual(['offboarding-force-completed', 'offboarding-terminated']);
    expect(outcomes).toEqual(names.map((name) => [name, undefined]));
  });
});
