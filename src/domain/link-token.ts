/** What an emailed link is for; each purpose has one live token per subject. */
export const LINK_TOKEN_PURPOSES = ['email_verification', 'password_reset', 'invitation'] as const;
export type LinkTokenPurpose = (typeof LINK_TOKEN_PURPOSES)[number];

/** How long each link works. */
export const VERIFICATION_TOKEN_TTL_HOURS = 24;
export const PASSWORD_RESET_TOKEN_TTL_MINUTES = 30;

const LINK_TOKEN_PATTERN = /^cp_lt_[A-Za-z0-9_-]{43}$/;
export const isLinkTokenShaped = (token: string) => LINK_TOKEN_PATTERN.test(token);
