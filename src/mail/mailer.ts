import nodemailer, { type Transporter } from 'nodemailer';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** Sends one mail or throws; `permanent` errors (the server refused the message for good) are not worth a retry. */
export interface Mailer {
  send(mail: OutgoingMail): Promise<{ messageId: string }>;
  close(): void;
}

export class MailRefused extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'MailRefused';
  }
}

/**
 * SMTP through nodemailer: by default a pool (one connection serves many sends, kept open until `close()`); without
 * it, a connection per mail. A 5xx reply is permanent; anything else may pass on a retry.
 */
export function createSmtpMailer(options: { smtpUrl: string; from: string; pool?: boolean }): Mailer {
  const url = options.pool === false ? options.smtpUrl : `${options.smtpUrl}${options.smtpUrl.includes('?') ? '&' : '?'}pool=true`;
  return fromTransport(nodemailer.createTransport(url), options.from);
}

/** Any nodemailer transport (the history recorder's stream transport, say). */
export function fromTransport(transport: Transporter, from: string): Mailer {
  return {
    async send(mail) {
      try {
        const info = (await transport.sendMail({ from, ...mail })) as { messageId?: string };
        return { messageId: info.messageId ?? '' };
      } catch (error) {
        const responseCode = (error as { responseCode?: number }).responseCode;
        // The server's words, never the message: they name the server and code, not the link.
        throw new MailRefused(`${(error as Error).message}`.slice(0, 500), responseCode !== undefined && responseCode >= 500);
      }
    },
    close: () => transport.close(),
  };
}

/** No SMTP server configured: every send fails for good, so each mail is recorded undelivered at once, not retried. */
export const unconfiguredMailer: Mailer = {
  send: () => Promise.reject(new MailRefused('no SMTP server is configured (SMTP_URL)', true)),
  close: () => undefined,
};
