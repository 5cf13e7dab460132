import { replayHistories } from '../support/histories';

/**
 * Replays the billing trial timer (every branch: trial, grace, expired; and superseded), reconciler passes (one batch;
 * a sweep), a lifecycle supervisor pass and a run-reservation sweep pass.
 */
describe('replay of recorded timer histories', () => {
  it('replays every recorded billing trial, reconciler, lifecycle supervisor and reservation sweep history without nondeterminism', async () => {
    const trials = await replayHistories('billing-trial-');
    const reconciler = await replayHistories('reconciler-');
    const supervisor = await replayHistories('supervisor-');
    const reservations = await replayHistories('reservation-sweep-');
    expect([...trials.names, ...reconciler.names, ...supervisor.names, ...reservations.names]).toEqual([
      'billing-trial-expired',
      'billing-trial-passed-schedule-expired',
      'billing-trial-superseded',
      'reconciler-pass',
      'reconciler-sweep-pass',
      'supervisor-pass',
      'reservation-sweep-pass',
    ]);
    expect([...trials.outcomes, ...reconciler.outcomes, ...supervisor.outcomes, ...reservations.outcomes]).toEqual([
      ['billing-trial-expired', undefined],
      ['billing-trial-passed-schedule-expired', undefined],
      ['billing-trial-superseded', undefined],
      ['reconciler-pass', undefined],
      ['reconciler-sweep-pass', undefined],
      ['supervisor-pass', undefined],
      ['reservation-sweep-pass', undefined],
    ]);
  });
});
