import { loadHistories, replayHistories } from '../support/histories';

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
      'provisioning-passes-trial-schedule',
      'provisioning-registered-email-decoy',
      'provisioning-registered-email-race',
      'provisioning-rollback-incomplete',
      'provisioning-rolled-back',
      'provisioning-starts-lifecycle',
      'provisioning-starts-trial',
      'provisioning-starts-verification',
      'provisioning-transient-retry',
    ]);
    expect(outcomes).toEqual(names.map((name) => [name, undefined]));
  });

  it('answers a registered address with a decoy: no tenant step past the screening, the owner\'s notice started, completed', async () => {
    const [saga] = await loadHistories('provisioning-registered-email-decoy');
    const events = saga!.history.events!;
    const children = events.flatMap((event) => event.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name ?? []);
    expect(children).toEqual(['signupAttemptNotice']);
    expect(events.some((event) => event.workflowExecutionCompletedEventAttributes)).toBe(true);
  });

  it('passes the trial timer the schedule its billing step committed, so the timer starts without reading it', async () => {
    const [saga] = await loadHistories('provisioning-passes-trial-schedule');
    const trialStart = saga!.history.events!.find((event) => event.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name === 'billingTrial');
    const payload = trialStart!.startChildWorkflowExecutionInitiatedEventAttributes!.input!.payloads![0]!;
    const input = JSON.parse(Buffer.from(payload.data!).toString());
    expect(input.schedule).toEqual({ subscriptionState: 'trial', trialEndsAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) });
    const [timer] = await loadHistories('billing-trial-passed-schedule-expired');
    const scheduled = timer!.history.events!.flatMap((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    expect(scheduled).toEqual(['endTrial', 'expireGrace']);
  });
});
