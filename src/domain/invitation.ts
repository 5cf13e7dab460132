/** `pending` holds a seat; every other state frees it and is final. */
export const INVITATION_STATUSES = ['pending', 'accepted', 'revoked', 'expired'] as const;
export type InvitationStatus = (typeof INVITATION_STATUSES)[number];

export const DEFAULT_INVITATION_EXPIRY_DAYS = 7;
export const DEFAULT_INVITATION_REMINDER_HOURS = 72;
/** An operator may extend a pending invitation by at most this many days at a time. */
export const MAX_INVITATION_EXTENSION_DAYS = 30;

/** Whether one more person fits: members plus pending invitations, with the new one, within the plan's seats. */
export const seatAvailable = (seats: { limit: number; members: number; pending: number }) => seats.members + seats.pending + 1 <= seats.limit;
