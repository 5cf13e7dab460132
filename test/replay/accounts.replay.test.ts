import { replayHistories } from '../support/histories';

/** Replays the account workflows (email verification, password reset, invitations), recorded from real runs. */
describe('replay of recorded account histories', () => {
  it('replays every recorded verification, password reset and invitation history without nondeterminism', async () => {
    const histories = await Promise.all(['verification-', 'password-reset-', 'invitation-'].map((prefix) => replayHistories(prefix)));
    const names = histories.flatMap((family) => family.names);
    expect(names).toEqual(['verification-local-steps-resent-verified', 'verification-resent-verified', 'password-reset-completed', 'invitation-accepted', 'invitation-revoked']);
    expect(histories.flatMap((family) => family.outcomes)).toEqual(names.map((name) => [name, undefined]));
  });
});
