import { randomBytes } from 'node:crypto';
import type { AccountMailDependencies } from '../../activities/account-mail';
import { linkSecretFrom } from '../auth/link-token';
import type { Config } from '../config';
import { createSmtpMailer, unconfiguredMailer } from './mailer';

/** Where the links of a process's mails point: APP_BASE_URL, else where clients reach the API. */
export const appBaseUrlOf = (config: Config) => config.APP_BASE_URL ?? config.PUBLIC_BASE_URL ?? `http://${config.API_HOST}:${config.API_PORT}`;

/**
 * The worker's mail: SMTP_URL through nodemailer (without it, every mail is recorded undelivered at once), the
 * product's name, and the link secret derived from AUTH_TOKEN_SECRET. Without that secret (outside production) a
 * per-process one serves: a send repairs the stored hash to the link it sends, so a restart never strands a link.
 */
export function accountMailFromConfig(config: Config): AccountMailDependencies {
  return {
    mailer: config.SMTP_URL ? createSmtpMailer({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM }) : unconfiguredMailer,
    branding: { productName: config.PRODUCT_NAME, appBaseUrl: appBaseUrlOf(config) },
    linkSecret: linkSecretFrom(config.AUTH_TOKEN_SECRET ?? randomBytes(32).toString('base64url')),
  };
}
