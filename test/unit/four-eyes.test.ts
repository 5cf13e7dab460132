import { credentialOfActor, fourEyesVerdict, USER_ACTOR_SQL_PATTERN, type RunDecider, type RunSubmitter } from '../../src/domain/four-eyes';
import { policyFingerprint } from '../../src/db/policy-rules';
import { runPolicyFromRules } from '../../src/domain/run-policy';

const ALICE = '11111111-1111-4111-8111-111111111111';
const BOB = '22222222-2222-4222-8222-222222222222';
const ALICES_KEY = '33333333-3333-4333-8333-333333333333';
const ALICES_OTHER_KEY = '44444444-4444-4444-8444-444444444444';
const BOBS_KEY = '55555555-5555-4555-8555-555555555555';

const byAlice: RunSubmitter = { userId: ALICE, apiKeyId: null };
const byAlicesKey: RunSubmitter = { userId: ALICE, apiKeyId: ALICES_KEY };
const person = (userId: string): RunDecider => ({ kind: 'user', userId });
const key = (apiKeyId: string, creatorUserId: string | null, ownerUserId = creatorUserId): RunDecider => ({ kind: 'api_key', apiKeyId, creatorUserId, ownerUserId });
const keysAllowed = { apiKeyApprovalAllowed: true };
const keysRefused = { apiKeyApprovalAllowed: false };
const refusalOf = (submitter: RunSubmitter, decider: RunDecider, authority = keysAllowed) => {
  const verdict = fourEyesVerdict(submitter, decider, authority);
  return verdict.allowed ? 'allowed' : verdict.refusal;
};

describe('four eyes: who may decide a run', () => {
  it('refuses the submitter in person, through a key they created, and the submitting key, whatever the policy', () => {
    for (const authority of [keysAllowed, keysRefused]) {
      expect(refusalOf(byAlice, person(ALICE), authority)).toBe('ApprovalBySubmitter');
      expect(refusalOf(byAlice, key(ALICES_KEY, ALICE), authority)).toBe('ApprovalBySubmitter');
      expect(refusalOf(byAlicesKey, key(ALICES_KEY, ALICE), authority)).toBe('ApprovalBySubmitter');
      expect(refusalOf(byAlicesKey, key(ALICES_OTHER_KEY, ALICE), authority)).toBe('ApprovalBySubmitter');
      expect(refusalOf(byAlicesKey, person(ALICE), authority)).toBe('ApprovalBySubmitter');
      // A key of no known person that submitted is still the submitter.
      expect(refusalOf({ userId: null, apiKeyId: ALICES_KEY }, key(ALICES_KEY, null), authority)).toBe('ApprovalBySubmitter');
    }
  });

  it('lets another person decide, and another person’s key only where the tenant allows keys', () => {
    expect(refusalOf(byAlicesKey, person(BOB), keysRefused)).toBe('allowed');
    expect(refusalOf(byAlice, key(BOBS_KEY, BOB), keysRefused)).toBe('ApprovalNeedsPerson');
    expect(refusalOf(byAlice, key(BOBS_KEY, BOB), keysAllowed)).toBe('allowed');
  });

  it('counts both the creator and the current owner of a re-owned key, on either side, whatever the policy', () => {
    // Alice created her key and re-owned it to Bob: the run records Bob, but Alice still holds the secret.
    const byReownedKey: RunSubmitter = { userId: BOB, apiKeyId: ALICES_KEY, keyPeople: { creatorUserId: ALICE, ownerUserId: BOB } };
    // A key re-owned after it submitted: the row recorded Alice, the key now names Bob as its owner.
    const byKeyReownedSince: RunSubmitter = { userId: ALICE, apiKeyId: ALICES_KEY, keyPeople: { creatorUserId: ALICE, ownerUserId: BOB } };
    for (const authority of [keysAllowed, keysRefused]) {
      expect(refusalOf(byReownedKey, person(ALICE), authority)).toBe('ApprovalBySubmitter');
      expect(refusalOf(byReownedKey, person(BOB), authority)).toBe('ApprovalBySubmitter');
      expect(refusalOf(byKeyReownedSince, person(BOB), authority)).toBe('ApprovalBySubmitter');
      expect(refusalOf(byReownedKey, key(ALICES_OTHER_KEY, ALICE), authority)).toBe('ApprovalBySubmitter');
      // The deciding key re-owned from Alice to Bob still speaks for Alice, and for Bob.
      expect(refusalOf(byAlice, key(ALICES_KEY, ALICE, BOB), authority)).toBe('ApprovalBySubmitter');
      expect(refusalOf({ userId: BOB, apiKeyId: null }, key(ALICES_KEY, ALICE, BOB), authority)).toBe('ApprovalBySubmitter');
    }
    // Nobody else is caught up in it.
    const CAROL = '66666666-6666-4666-8666-666666666666';
    expect(refusalOf(byReownedKey, person(CAROL), keysRefused)).toBe('allowed');
    expect(refusalOf({ userId: CAROL, apiKeyId: null }, key(ALICES_KEY, ALICE, BOB), keysAllowed)).toBe('allowed');
    // A key some non-person minted but a member owns now names that member.
    expect(refusalOf({ userId: CAROL, apiKeyId: null }, key(BOBS_KEY, null, BOB), keysAllowed)).toBe('allowed');
  });

  it('refuses a key that names no person even where keys are allowed: it cannot be told apart from the submitter', () => {
    expect(refusalOf(byAlice, key(BOBS_KEY, null), keysAllowed)).toBe('ApprovalNeedsPerson');
  });

  it('lets anyone else decide a run whose submitter is unknown (started by hand)', () => {
    expect(refusalOf({ userId: null, apiKeyId: null }, person(BOB), keysRefused)).toBe('allowed');
  });
});

describe('actors and the approval rule', () => {
  it('reads the credential an audit actor names, and nothing from any other actor', () => {
    expect(credentialOfActor(`user:${ALICE}`)).toEqual({ userId: ALICE, apiKeyId: null });
    expect(credentialOfActor(`api_key:${ALICES_KEY}`)).toEqual({ userId: null, apiKeyId: ALICES_KEY });
    const sqlPattern = new RegExp(USER_ACTOR_SQL_PATTERN);
    expect(sqlPattern.test(`user:${ALICE}`)).toBe(true);
    for (const actor of [`api_key:${ALICES_KEY}`, `user:${ALICE}x`, 'user:test']) expect(sqlPattern.test(actor)).toBe(false);
    for (const actor of ['user:test', 'operator:ada', 'test:setup', `user:${ALICE}x`, ` user:${ALICE}`]) expect(credentialOfActor(actor)).toEqual({ userId: null, apiKeyId: null });
  });

  it('allow_api_key_approval turns key approval on without changing the fingerprint runs are authorised under', () => {
    const governing = [{ rule: 'max_steps', params: { limit: 5 } }];
    const withApprovalRule = [{ rule: 'allow_api_key_approval', params: {} }, ...governing];
    expect(runPolicyFromRules(withApprovalRule)).toEqual({ maxSteps: 5, allowApiKeyApproval: true });
    expect(runPolicyFromRules(governing).allowApiKeyApproval).toBeUndefined();
    expect(policyFingerprint(withApprovalRule)).toBe(policyFingerprint(governing));
    expect(policyFingerprint([{ rule: 'max_steps', params: { limit: 6 } }])).not.toBe(policyFingerprint(governing));
  });
});
