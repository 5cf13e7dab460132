import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Long enough that a person's usual devices keep it between sign-ins. */
export const DEVICE_COOKIE_DAYS = 180;

/**
 * OWASP's device cookie: `<deviceId>.<expiry>.<signature>`, the signature an HMAC over the device, the expiry and the
 * account it was issued to (the lower-cased email). The account is not in the cookie; it is proved by recomputing the
 * signature for the account being signed in to, so a cookie of one account is worth nothing for another.
 */
export function createDeviceCookies(deps: { authTokenSecret: string; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  // Its own key, derived from the access-token secret: one setting, no key doing two jobs.
  const key = createHmac('sha256', deps.authTokenSecret).update('control-plane device cookies').digest();
  const sign = (deviceId: string, expiresAt: number, account: string) => createHmac('sha256', key).update(`${deviceId}\n${expiresAt}\n${account}`).digest('base64url');

  return {
    issue(account: string): { value: string; maxAgeMs: number } {
      const maxAgeMs = DEVICE_COOKIE_DAYS * 24 * 60 * 60 * 1000;
      const deviceId = randomBytes(16).toString('base64url');
      const expiresAt = Math.floor((now().getTime() + maxAgeMs) / 1000);
      return { value: `${deviceId}.${expiresAt}.${sign(deviceId, expiresAt, account)}`, maxAgeMs };
    },

    /** The device a cookie names, when it was issued to this account and has not expired. */
    deviceOf(value: string | undefined, account: string): string | undefined {
      const parts = value?.split('.');
      if (!parts || parts.length !== 3) return undefined;
      const [deviceId, expiry, signature] = parts as [string, string, string];
      const expiresAt = Number(expiry);
      if (!/^[A-Za-z0-9_-]{22}$/.test(deviceId) || !Number.isSafeInteger(expiresAt) || expiresAt * 1000 <= now().getTime()) return undefined;
      const expected = Buffer.from(sign(deviceId, expiresAt, account));
      const presented = Buffer.from(signature);
      return presented.length === expected.length && timingSafeEqual(presented, expected) ? deviceId : undefined;
    },
  };
}

export type DeviceCookies = ReturnType<typeof createDeviceCookies>;
