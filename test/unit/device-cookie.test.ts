import { createDeviceCookies, DEVICE_COOKIE_DAYS } from '../../src/auth/device-cookie';

const SECRET = 'device-cookie-test-secret-0123456789abcdef';
const DAY_MS = 86_400_000;

describe('device cookies', () => {
  it('prove the device only for the account they were issued to', () => {
    const cookies = createDeviceCookies({ authTokenSecret: SECRET });
    const { value } = cookies.issue('owner@example.com');
    expect(cookies.deviceOf(value, 'owner@example.com')).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(cookies.deviceOf(value, 'someone-else@example.com')).toBeUndefined();
    // The account is not readable from the cookie.
    expect(value).not.toContain('owner');
  });

  it('refuse a tampered, a foreign-secret and an expired cookie', () => {
    let now = new Date('2026-12-06T00:00:00Z');
    const cookies = createDeviceCookies({ authTokenSecret: SECRET, now: () => now });
    const { value } = cookies.issue('owner@example.com');
    const [device, expiry, signature] = value.split('.') as [string, string, string];
    expect(cookies.deviceOf(`${device}.${Number(expiry) + 86_400}.${signature}`, 'owner@example.com')).toBeUndefined();
    expect(cookies.deviceOf(`${device.replace(/^./, device[0] === 'A' ? 'B' : 'A')}.${expiry}.${signature}`, 'owner@example.com')).toBeUndefined();
    expect(createDeviceCookies({ authTokenSecret: `${SECRET}-other`, now: () => now }).deviceOf(value, 'owner@example.com')).toBeUndefined();
    expect(cookies.deviceOf(undefined, 'owner@example.com')).toBeUndefined();
    expect(cookies.deviceOf('garbage', 'owner@example.com')).toBeUndefined();
    now = new Date(now.getTime() + (DEVICE_COOKIE_DAYS - 1) * DAY_MS);
    expect(cookies.deviceOf(value, 'owner@example.com')).toBe(device);
    now = new Date(now.getTime() + 2 * DAY_MS);
    expect(cookies.deviceOf(value, 'owner@example.com')).toBeUndefined();
  });
});
