import { z } from 'zod';
import { text } from '../../domain/storable-schemas';
import { PASSWORD_MAX_LENGTH } from '../../domain/password-policy';

/** Login checks no password policy: the policy applies when a password is set, not when an old one is used. */
export const loginRequestSchema = z.strictObject({
  email: z.email({ message: 'must be a valid email address' }).max(320).transform((email) => email.toLowerCase()),
  password: text().min(1, { message: 'is required' }).max(PASSWORD_MAX_LENGTH),
  /** Which of the user's tenants the session acts in; the first membership when absent. */
  tenantId: z.uuid({ message: 'must be a tenant id' }).optional(),
});

export const refreshTokenRequestSchema = z.strictObject({
  refreshToken: text().min(1, { message: 'is required' }).max(200),
});

export const sessionResponseSchema = z.object({
  tokenType: z.literal('Bearer'),
  accessToken: z.string(),
  expiresIn: z.number().int(),
  refreshToken: z.string(),
  refreshExpiresIn: z.number().int(),
  tenantId: z.uuid(),
  userId: z.uuid(),
});
