import { acceptedUpdateNames, loadHistories, replayHistories } from '../support/histories';

/**
 * Replays run histories recorded from real runs (scripts/record-histories.ts) against today's workflow code: a
 * completed run, rollbacks (step fault, governance, terminate), a transient retry, an approval and a force-complete.
 * A change that would break running workflows fails here; ship it behind patched() or as a new workflow type.
 */
describe('replay of recorded run histories', () => {
  it('replays every recorded run history without nondeterminism', async () => {
    const { names, outcomes } = await replayHistories('run-');
    // Each generation stays on disk: see the GENERATION constants in scripts/histories/.
    expect(names).toEqual([
      'run-approval-granted',
      'run-close-with-governance-approval-granted',
      'run-close-with-governance-completed',
      'run-close-with-governance-force-completed',
      'run-close-with-governance-governance-rejected',
      'run-close-with-governance-rolled-back',
      'run-close-with-governance-started-directly',
      'run-close-with-governance-terminated',
      'run-close-with-governance-transient-retry',
      'run-completed',
      'run-distinct-updates-approval-granted',
      'run-distinct-updates-completed',
      'run-distinct-updates-force-completed',
      'run-distinct-updates-governance-rejected',
      'run-distinct-updates-rolled-back',
      'run-distinct-updates-terminated',
      'run-distinct-updates-transient-retry',
      'run-force-completed',
      'run-governance-rejected',
      'run-lean-bookkeeping-approval-granted',
      'run-lean-bookkeeping-completed',
      'run-lean-bookkeeping-force-completed',
      'run-lean-bookkeeping-governance-rejected',
      'run-lean-bookkeeping-rolled-back',
      'run-lean-bookkeeping-terminated',
      'run-lean-bookkeeping-transient-retry',
      'run-rolled-back',
      'run-terminated',
      'run-transient-retry',
    ]);
    expect(outcomes).toEqual(names.map((name) => [name, undefined]));
  });

  it('records the lean path: bookkeeping as local activities, RunPhase written when the run waits or ends', async () => {
    const [completed] = (await loadHistories('run-lean-bookkeeping-completed')).map(({ history }) => history.events ?? []);
    const scheduled = completed!.flatMap((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    // Only the effect steps and the wait step's guard and record go through the server; a wait step has no effect.
    expect(scheduled).toEqual(['writeRecord', 'debitCredits', 'checkRunGuard', 'completeWaitStep', 'refundCredits', 'deleteRecord']);
    const upserts = completed!.flatMap((event) => {
      const fields = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
      return fields ? [Object.keys(fields).sort().join(',')] : [];
    });
    // The SDK's own TemporalChangeVersion for the patch, then one upsert before the first step, one at the end.
    expect(upserts).toEqual(['TemporalChangeVersion', 'RunDegraded,RunPhase,TenantId', 'RunPhase']);
  });

  it('records the concluding path: an admitted run opens nowhere but the API, and a passing verdict closes it', async () => {
    const localActivities = async (name: string) => {
      const [history] = (await loadHistories(name)).map(({ history }) => history.events ?? []);
      return history!.flatMap((event) => {
        const marker = event.markerRecordedEventAttributes;
        if (marker?.markerName !== 'core_local_activity') return [];
        const data = marker.details?.data?.payloads?.[0]?.data;
        return [JSON.parse(Buffer.from(data!).toString()).activity_type as string];
      });
    };
    expect(await localActivities('run-close-with-governance-completed')).toEqual(['authorizeRun', 'concludeRun']);
    // A run started without the API opens itself; a rejected verdict leaves the close to the rollback.
    expect(await localActivities('run-close-with-governance-started-directly')).toEqual(['openRun', 'authorizeRun', 'concludeRun']);
    expect(await localActivities('run-close-with-governance-governance-rejected')).toEqual(['authorizeRun', 'concludeRun']);
  });

  it('covers the old and the new names of the override updates', async () => {
    const updates = new Set((await loadHistories('run-')).flatMap(({ history }) => acceptedUpdateNames(history)));
    expect([...updates].sort()).toEqual(['approve', 'forceComplete', 'forceCompleteRun', 'terminate', 'terminateRun']);
  });
});
