/**
 * Four eyes on a run's approvals: whoever submitted a run does not decide it. Identity is the people behind the
 * credential: a session is its user; an API key is both the user who created it and the member it is owned by now,
 * since an owner who re-owns a key to someone else still holds its secret. A run records its submitter when it is
 * admitted; the decision compares the two. Pure: the caller reads both sides and the tenant's policy.
 */

/** The people behind an API key: its creator (never changes) and its current owner. Null is no known person. */
export interface KeyPeople {
  creatorUserId: string | null;
  ownerUserId: string | null;
}

/**
 * Who submitted a run: its row's person and key, and the people behind that key as they stand at decision time (a key
 * re-owned after submitting still counts its creator). Null fields are unknown (a run started by hand, a key of no
 * person, a key no longer found).
 */
export interface RunSubmitter {
  userId: string | null;
  apiKeyId: string | null;
  keyPeople?: KeyPeople;
}

/** Who is deciding: a signed-in person, or an API key and the people behind it. */
export type RunDecider = { kind: 'user'; userId: string } | ({ kind: 'api_key'; apiKeyId: string } & KeyPeople);

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
  const deciders = decider.kind === 'user' ? people(decider.userId) : people(decider.creatorUserId, decider.ownerUserId);
  const submitters = people(submitter.userId, submitter.keyPeople?.creatorUserId, submitter.keyPeople?.ownerUserId);
  if ([...deciders].some((person) => submitters.has(person))) {
    return refuse(
      FourEyesRefusal.BySubmitter,
      decider.kind === 'user'
        ? 'you submitted this run (yourself or through an API key you created or own); someone other than its submitter must decide it'
        : "this API key's creator or owner submitted the run; someone other than its submitter must decide it",
    );
  }
  if (decider.kind === 'api_key') {
    if (!authority.apiKeyApprovalAllowed) {
      return refuse(FourEyesRefusal.NeedsPerson, "a run's approval takes a signed-in person; the tenant's policy does not let API keys decide runs (allow_api_key_approval)");
    }
    if (deciders.size === 0) return refuse(FourEyesRefusal.NeedsPerson, 'this API key was not created by a person of the tenant, so it cannot be told apart from the submitter');
  }
  return { allowed: true };
}

const people = (...userIds: Array<string | null | undefined>): Set<string> => new Set(userIds.filter((id): id is string => typeof id === 'string'));

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const USER_ACTOR = new RegExp(`^user:(${UUID})$`);
const API_KEY_ACTOR = new RegExp(`^api_key:(${UUID})$`);
/** The same `user:<uuid>` actor as a Postgres regex, for reading a key's creator inside a statement. */
export const USER_ACTOR_SQL_PATTERN = `^user:${UUID}$`;

/** The credential an audit actor names (`user:<uuid>`, `api_key:<uuid>`); anything else names neither. */
export function credentialOfActor(actor: string): { userId: string | null; apiKeyId: string | null } {
  return { userId: USER_ACTOR.exec(actor)?.[1] ?? null, apiKeyId: API_KEY_ACTOR.exec(actor)?.[1] ?? null };
}
