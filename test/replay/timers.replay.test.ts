import { replayHistories } from '../support/histories';

/**
 * Replays the billing trial timer (every branch: trial, grace, expired; and superseded), reconciler passes (one batch;
 * a sweep) and a lifecycle supervisor pass.
 */
describe('replay of recorded timer histories', () => {
  it('replays every recorded billing trial, reconciler and lifecycle supervisor history without nondeterminism', async () => {
    const trials = await replayHistories('billing-trial-');
    const reconciler = await replayHistories('reconciler-');
    const supervisor = await replayHistories('supervisor-');
    expect([...trials.names, ...reconciler.names, ...supervisor.names]).toEqual([
      'billing-trial-expired',
      'billing-trial-superseded',
      'reconciler-pass',
      'reconciler-sweep-pass',
      'supervisor-pass',
    ]);
    expect([...trials.outcomes, ...reconciler.outcomes, ...supervisor.outcomes]).toEqual([
      ['billing-trial-expired', undefined],
      ['billing-trial-superseded', undefined],
      ['reconciler-pass', undefined],
      ['reconciler-sweep-pass', undefined],
      ['supervisor-pass', undefined],
    ]);
  });
});
