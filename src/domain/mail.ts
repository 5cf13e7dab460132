export const MAIL_KINDS = ['email_verification', 'verification_reminder', 'password_reset', 'invitation', 'invitation_reminder', 'signup_attempt'] as const;
export type MailKind = (typeof MAIL_KINDS)[number];

/** `retrying`: an attempt failed and the workflow retries; `undelivered`: its retries are spent, an operator must act. */
export const MAIL_DELIVERY_STATUSES = ['retrying', 'sent', 'undelivered'] as const;
export type MailDeliveryStatus = (typeof MAIL_DELIVERY_STATUSES)[number];
