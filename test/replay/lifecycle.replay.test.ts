import { acceptedUpdateNames, loadHistories, replayHistories } from '../support/histories';

/**
 * Replays tenant lifecycle and offboarding histories recorded from real workflows (scripts/record-histories.ts)
 * against today's code: transitions, a refusal, restore, terminate with a run in flight, force-complete of a
 * retention wait, and a run that continued as new. A change that would break a live tenant's workflow fails here.
 */
describe('replay of recorded lifecycle histories', () => {
  it('replays every recorded lifecycle history without nondeterminism', async () => {
    const { names, outcomes } = await replayHistories('lifecycle-');
    // Each generation stays on disk: see the GENERATION constants in scripts/histories/.
    expect(names).toEqual([
      'lifecycle-continued-as-new',
      'lifecycle-distinct-updates-continued-as-new',
      'lifecycle-distinct-updates-force-completed',
      'lifecycle-distinct-updates-restored',
      'lifecycle-distinct-updates-suspend-unsuspend',
      'lifecycle-distinct-updates-terminated',
      'lifecycle-force-completed',
      'lifecycle-restored',
      'lifecycle-safe-handlers-continued-as-new',
      'lifecycle-safe-handlers-force-completed',
      'lifecycle-safe-handlers-restored',
      'lifecycle-safe-handlers-suspend-unsuspend',
      'lifecycle-safe-handlers-terminated',
      'lifecycle-suspend-unsuspend',
      'lifecycle-terminated',
    ]);
    expect(outcomes).toEqual(names.map((name) => [name, undefined]));
  });

  it('has the patched path in the newer histories and not in the older ones', async () => {
    const histories = await loadHistories('lifecycle-');
    const patchedOnes = histories.filter(({ history }) => history.events?.some((event) => event.markerRecordedEventAttributes?.markerName === 'core_patch')).map(({ workflowId }) => workflowId);
    const afterThePatch = (name: string) => name.startsWith('lifecycle-safe-handlers-') || name.startsWith('lifecycle-distinct-updates-');
    expect(patchedOnes).toEqual(histories.map(({ workflowId }) => workflowId).filter(afterThePatch));
  });

  it('covers the old and the new names of the terminate and force-complete updates', async () => {
    const updates = new Set((await loadHistories('lifecycle-')).flatMap(({ history }) => acceptedUpdateNames(history)));
    expect([...updates].sort()).toEqual(['forceComplete', 'forceCompleteTenant', 'restore', 'softDelete', 'suspend', 'terminate', 'terminateTenant', 'unsuspend']);
  });

  it('replays every recorded offboarding history without nondeterminism', async () => {
    const { names, outcomes } = await replayHistories('offboarding-');
    expect(names).toEqual(['offboarding-force-completed', 'offboarding-terminated']);
    expect(outcomes).toEqual(names.map((name) => [name, undefined]));
  });
});
