import { z } from 'zod';
import { text } from '../../domain/storable-schemas';
import { MAX_INVITATION_EXTENSION_DAYS } from '../../domain/invitation';
import { PASSWORD_MAX_LENGTH } from '../../domain/password-policy';
import { MEMBERSHIP_ROLES } from '../../domain/tenant-status';

const email = z.email({ message: 'must be a valid email address' }).max(320).transform((address) => address.toLowerCase());
/** The token of an emailed link, as the link carries it (src/auth/link-token.ts). */
const token = text().regex(/^cp_lt_[A-Za-z0-9_-]{43}$/, { message: 'is not the token of a link' });
/** The policy is checked by the service, which knows the address it must not contain. */
const password = text().min(1, { message: 'is required' }).max(PASSWORD_MAX_LENGTH);
const role = z.enum(MEMBERSHIP_ROLES, { message: `must be one of ${MEMBERSHIP_ROLES.join(', ')}` });
const reason = text().trim().min(1, { message: 'is required' }).max(500);

export const verifyEmailRequestSchema = z.strictObject({ token });
export const passwordResetRequestSchema = z.strictObject({ email });
export const passwordResetCompleteSchema = z.strictObject({ token, password });
export const acceptInvitationSchema = z.strictObject({ token, password });

export const inviteRequestSchema = z.strictObject({ email, role });
export const memberRoleRequestSchema = z.strictObject({ role });
export const memberPathSchema = z.strictObject({ tenantId: z.uuid(), userId: z.uuid({ message: 'must be a user id' }) });
export const invitationPathSchema = z.strictObject({ tenantId: z.uuid(), invitationId: z.uuid({ message: 'must be an invitation id' }) });

export const extendInvitationSchema = z.strictObject({
  days: z
    .number({ message: 'must be a whole number of days' })
    .int({ message: 'must be a whole number of days' })
    .min(1, { message: 'must be at least 1' })
    .max(MAX_INVITATION_EXTENSION_DAYS, { message: `must be at most ${MAX_INVITATION_EXTENSION_DAYS}` }),
  reason,
});
export const operatorReasonSchema = z.strictObject({ reason });
/** A tenant's own resend: the reason is optional, and goes into the audit row when given. */
export const verificationResendSchema = z.strictObject({ reason: reason.optional() });
export const undeliveredMailQuerySchema = z.strictObject({
  limit: z.coerce.number({ message: 'must be a number' }).int().min(1).max(500).default(100),
});

export const invitationSchema = z.object({
  id: z.uuid(),
  email: z.string(),
  role,
  status: z.enum(['pending', 'accepted', 'revoked', 'expired']),
  invitedBy: z.string(),
  expiresAt: z.string(),
  createdAt: z.string(),
});
const seatsSchema = z.object({ limit: z.number().int(), members: z.number().int(), pending: z.number().int() });
export const membersResponseSchema = z.object({
  items: z.array(z.object({ userId: z.uuid(), email: z.string(), role, emailVerified: z.boolean(), joinedAt: z.string() })),
  seats: seatsSchema,
});
export const tenantViewSchema = z.object({
  tenantId: z.uuid(),
  slug: z.string(),
  name: z.string(),
  status: z.string(),
  createdAt: z.string(),
  emailVerification: z.object({ state: z.enum(['not_required', 'pending', 'verified']), verifiedAt: z.string().nullable(), deadline: z.string().nullable() }),
  seats: seatsSchema,
});
