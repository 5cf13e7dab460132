import { waitFor } from './wait';

/** A mail as Mailpit's HTTP API shows it (GET /api/v1/message/{ID}). */
export interface CaughtMail {
  ID: string;
  Subject: string;
  Text: string;
  HTML: string;
  To: Array<{ Address: string }>;
}

const mailpitUrl = () => {
  const url = process.env.TEST_MAILPIT_URL;
  if (!url) throw new Error('TEST_MAILPIT_URL is unset: run the suite through jest (global setup starts Mailpit)');
  return url;
};

/** Every mail sent to `recipient`, oldest first. The suite shares one Mailpit: each test uses addresses of its own. */
export async function mailsTo(recipient: string): Promise<CaughtMail[]> {
  const query = encodeURIComponent(`to:"${recipient}"`);
  const found = (await (await fetch(`${mailpitUrl()}/api/v1/search?query=${query}&limit=200`)).json()) as { messages: Array<{ ID: string; Created: string }> };
  const ordered = [...found.messages].sort((a, b) => a.Created.localeCompare(b.Created));
  return Promise.all(ordered.map(async ({ ID }) => (await (await fetch(`${mailpitUrl()}/api/v1/message/${ID}`)).json()) as CaughtMail));
}

/** Waits until `recipient` has at least `count` mails, and returns them all. */
export async function waitForMails(recipient: string, count: number, timeoutMs = 30_000): Promise<CaughtMail[]> {
  let mails: CaughtMail[] = [];
  await waitFor(async () => (mails = await mailsTo(recipient)).length >= count, { timeoutMs, intervalMs: 200 });
  return mails;
}

/** The token of the link in a mail, read from its text part (the HTML part carries the same link). */
export function linkToken(mail: CaughtMail, page: 'verify-email' | 'reset-password' | 'accept-invitation'): string {
  const match = new RegExp(`/${page}\\?token=([A-Za-z0-9_%-]+)`).exec(mail.Text);
  if (!match) throw new Error(`no ${page} link in mail "${mail.Subject}"`);
  return decodeURIComponent(match[1]!);
}
