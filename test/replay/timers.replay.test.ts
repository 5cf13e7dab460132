import { replayHistories } from '../support/histories';

/** Replays the billing trial timer (every branch: trial, grace, expired; and superseded) and reconciler passes (one batch; a sweep). */
describe('replay of recorded timer histories', () => {
  it('replays every recorded billing trial and reconciler history without nondeterminism', async () => {
    const trials = await replayHistories('billing-trial-');
    const reconciler = await replayHistories('reconciler-');
    expect([...trials.names, ...reconciler.names]).toEqual(['billing-trial-expired', 'billing-trial-superseded', 'reconciler-pass', 'reconciler-sweep-pass']);
    expect([...trials.outcomes, ...reconciler.outcomes]).toEqual([
      ['billing-trial-expired', undefined],
      ['billing-trial-superseded', undefined],
      ['reconciler-pass', undefined],
      ['reconciler-sweep-pass', undefined],
    ]);
  });
});
