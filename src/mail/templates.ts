import type { MembershipRole } from '../domain/tenant-status';
import type { OutgoingMail } from './mailer';

/** Who the product is in its mails and where its links lead. */
export interface MailBranding {
  productName: string;
  /** Where the links point: the web app that posts the link's token to the API. */
  appBaseUrl: string;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
const when = (at: Date) => at.toUTCString();

/** One layout for every mail: the same words as text and as HTML, the link once in each, nothing else clickable. */
function compose(branding: MailBranding, to: string, subject: string, paragraphs: string[], action: { label: string; url: string }, footer: string): OutgoingMail {
  const text = [...paragraphs, `${action.label}: ${action.url}`, footer, `— ${branding.productName}`].join('\n\n');
  const html = [
    '<!doctype html><html><body style="font-family: sans-serif; line-height: 1.5">',
    ...paragraphs.map((paragraph) => `<p>${escapeHtml(paragraph)}</p>`),
    `<p><a href="${escapeHtml(action.url)}">${escapeHtml(action.label)}</a></p>`,
    `<p style="color: #666; font-size: smaller">${escapeHtml(footer)}</p>`,
    `<p>— ${escapeHtml(branding.productName)}</p>`,
    '</body></html>',
  ].join('\n');
  return { to, subject, text, html };
}

const link = (branding: MailBranding, page: string, token: string) => `${branding.appBaseUrl}/${page}?token=${encodeURIComponent(token)}`;

export function verificationMail(branding: MailBranding, input: { to: string; tenantName: string; token: string; expiresAt: Date; deadline: Date; reminder: boolean }): OutgoingMail {
  const subject = input.reminder ? `Reminder: verify your email for ${input.tenantName} on ${branding.productName}` : `Verify your email for ${input.tenantName} on ${branding.productName}`;
  return compose(
    branding,
    input.to,
    subject,
    [
      input.reminder ? `Your ${branding.productName} organisation ${input.tenantName} is still waiting for you to verify your email address.` : `Welcome to ${branding.productName}. Please verify your email address to finish setting up ${input.tenantName}.`,
      `This link works once and expires on ${when(input.expiresAt)}. If ${input.tenantName} is not verified by ${when(input.deadline)}, it will be removed with everything in it.`,
    ],
    { label: 'Verify my email', url: link(branding, 'verify-email', input.token) },
    `If you did not sign up for ${branding.productName}, ignore this mail: the organisation will be removed on its own.`,
  );
}

export function passwordResetMail(branding: MailBranding, input: { to: string; token: string; expiresAt: Date }): OutgoingMail {
  return compose(
    branding,
    input.to,
    `Reset your ${branding.productName} password`,
    [`Someone asked to reset the password of your ${branding.productName} account.`, `This link works once and expires on ${when(input.expiresAt)}. Setting a new password signs you out everywhere.`],
    { label: 'Choose a new password', url: link(branding, 'reset-password', input.token) },
    'If you did not ask for this, ignore this mail: your password stays as it is.',
  );
}

export function invitationMail(
  branding: MailBranding,
  input: { to: string; tenantName: string; role: MembershipRole; invitedBy: string; token: string; expiresAt: Date; reminder: boolean },
): OutgoingMail {
  const subject = input.reminder ? `Reminder: you are invited to join ${input.tenantName} on ${branding.productName}` : `You are invited to join ${input.tenantName} on ${branding.productName}`;
  return compose(
    branding,
    input.to,
    subject,
    [
      `${input.invitedBy} invited you to join ${input.tenantName} on ${branding.productName} as ${input.role === 'admin' || input.role === 'owner' ? 'an' : 'a'} ${input.role}.`,
      `The invitation expires on ${when(input.expiresAt)}. If you have no ${branding.productName} account yet, you choose your password when you accept.`,
    ],
    { label: 'Accept the invitation', url: link(branding, 'accept-invitation', input.token) },
    'If you do not know this organisation, ignore this mail: the invitation expires on its own.',
  );
}

/** Told to an address's owner when someone signs up with it: the signup's public answers never say so (issue 21 item 6). */
export function signupAttemptMail(branding: MailBranding, input: { to: string }): OutgoingMail {
  return compose(
    branding,
    input.to,
    `Someone tried to sign up for ${branding.productName} with your address`,
    [
      `Someone just tried to create a ${branding.productName} organisation with your email address. You already have an account, so nothing was created and no one got access to it.`,
      'If it was you, sign in with your existing password (or ask for a password reset from the sign-in page) and create the organisation from there.',
    ],
    { label: `Go to ${branding.productName}`, url: branding.appBaseUrl },
    'If it was not you, you need do nothing: your account is unchanged. We send this notice at most once a day.',
  );
}
