/**
 * Four eyes on a run's approvals: whoever submitted a run does not decide it. Identity is the person behind the
 * credential: a session is its user, an API key is the user who created it. A run records its submitter when it is
 * admitted; the decision compares the two. Pure: the caller reads both sides and the tenant's policy.
 */

/** Who submitted a run, as its row records it. Null fields are unknown (a run started by hand, a key of no person). */
export interface RunSubmitter {
  userId: string | null;
  apiKeyId: string | null;
}

/** Who is deciding: a signed-in person, or an API key and the person who created it (null when it names no person). */
export type RunDecider = { kind: 'user'; userId: string } | { kind: 'api_key'; apiKeyId: string; creatorUserId: string | null };

export const FourEyesRefusal = {
  /** The decider is the submitter: the same person, their key, or the key that submitted. */
  BySubmitter: 'ApprovalBySubmitter',
  /** A key may not decide: the tenant did not allow it, or no person stands behind the key. */
  NeedsPerson: 'ApprovalNeedsPerson',
} as const;
export type FourEyesRefusalType = (typeof FourEyesRefusal)[keyof typeof FourEyesRefusal];

export type FourEyesVerdict = { allowed: true } | { allowed: false; refusal: FourEyesRefusalType; reason: string };

/** The tenant's say in it: the `allow_api_key_approval` policy rule. */
export interface ApprovalAuthority {
  apiKeyApprovalAllowed: boolean;
}

const refuse = (refusal: FourEyesRefusalType, reason: string): FourEyesVerdict => ({ allowed: false, refusal, reason });

/**
 * May this decider approve or reject this submitter's run? The submitter check comes first and no policy lifts it; a
 * key then needs the tenant's leave and a known creator, since a key of nobody cannot be told apart from the submitter.
 */
export function fourEyesVerdict(submitter: RunSubmitter, decider: RunDecider, authority: ApprovalAuthority): FourEyesVerdict {
  if (decider.kind === 'api_key' && submitter.apiKeyId === decider.apiKeyId) {
    return refuse(FourEyesRefusal.BySubmitter, 'this API key submitted the run; someone other than its submitter must decide it');
  }
  const person = decider.kind === 'user' ? decider.userId : decider.creatorUserId;
  if (person !== null && submitter.userId === person) {
    return refuse(
      FourEyesRefusal.BySubmitter,
      decider.kind === 'user'
        ? 'you submitted this run (yourself or through an API key of yours); someone other than its submitter must decide it'
        : "this API key's creator submitted the run; someone other than its submitter must decide it",
    );
  }
  if (decider.kind === 'api_key') {
    if (!authority.apiKeyApprovalAllowed) {
      return refuse(FourEyesRefusal.NeedsPerson, "a run's approval takes a signed-in person; the tenant's policy does not let API keys decide runs (allow_api_key_approval)");
    }
    if (person === null) return refuse(FourEyesRefusal.NeedsPerson, 'this API key was not created by a person of the tenant, so it cannot be told apart from the submitter');
  }
  return { allowed: true };
}

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const USER_ACTOR = new RegExp(`^user:(${UUID})$`);
const API_KEY_ACTOR = new RegExp(`^api_key:(${UUID})$`);

/** The credential an audit actor names (`user:<uuid>`, `api_key:<uuid>`); anything else names neither. */
export function credentialOfActor(actor: string): { userId: string | null; apiKeyId: string | null } {
  return { userId: USER_ACTOR.exec(actor)?.[1] ?? null, apiKeyId: API_KEY_ACTOR.exec(actor)?.[1] ?? null };
}
