import { replayHistories } from '../support/histories';

/**
 * Replays histories recorded from real runs (scripts/record-histories.ts) against today's workflow code,
 * including sagas recorded before provisioning started the lifecycle workflow (patched). A change that would break
 * running workflows fails here; ship it behind patched() or as a new workflow type.
 */
describe('replay of recorded provisioning histories', () => {
  it('replays every recorded provisioning history without nondeterminism', async () => {
    const { names, outcomes } = await replayHistories('provisioning-');
    expect(names).toEqual([
      'provisioning-active',
      'provisioning-local-steps-active',
      'provisioning-local-steps-rolled-back',
      'provisioning-local-steps-transient-retry',
      'provisioning-rollback-incomplete',
      'provisioning-rolled-back',
      'provisioning-starts-lifecycle',
      'provisioning-starts-trial',
      'provisioning-starts-verification',
      'provisioning-transient-retry',
    ]);
    expect(outcomes).toEqual(names.map((name) => [name, undefined]));
  });
});
