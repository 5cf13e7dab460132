import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import type { DeviceCookies } from '../auth/device-cookie';
import { clearCredentialFailures, lockedUntil, pruneCredentialFailures, releaseCredentialAttempt, reserveCredentialAttempt, type ThrottleCounter, type ThrottleTiming } from '../db/credential-throttle';
import type { Orm } from '../db/orm';
import { throttle } from '../domain/gate-decision';
import type { GateRecorder } from '../gates/gate-recorder';
import { gateProblem } from './gate-problem';
import type { Problem } from './problem';

export interface CredentialThrottleLimits {
  /** Failures of one account from one client address, or from one device cookie, before a lock. */
  failuresPerClientAccount: number;
  /** Failures of one account from clients without its device cookie (guessing from many addresses). */
  failuresPerAccount: number;
  /** Failures from one client address, across accounts and link tokens. */
  failuresPerClient: number;
  windowMinutes: number;
  firstLockSeconds: number;
}

/** The boundary each credential check is recorded under (a fixed name: it is a metric label). */
export type CredentialBoundary = 'login' | 'invitation_accept' | 'verify_email' | 'password_reset_complete';

export const DEVICE_COOKIE = 'cp_device';

/** The cookie's value from the Cookie header (no cookie middleware: this is the one cookie the API reads). */
function presentedDeviceCookie(request: Request): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === DEVICE_COOKIE) return value.join('=');
  }
  return undefined;
}

const normalAccount = (account: string) => account.trim().toLowerCase();

/**
 * Every route that checks a password or a link token asks this one throttle, so they share its counters: per client
 * address; per (account, client address); per account from clients that never signed in to it (OWASP's device
 * cookie: a client that did is exempt from that one and counts per device instead). Each attempt is counted as a
 * failure before its credential is checked (`reserve`), so a burst of concurrent attempts gets no more checks than
 * attempts one after another would; a success or an outcome that is no failure gives it back (`succeeded`,
 * `released`), so only real failures stay counted. A success forgets the caller's own counters, and each lock past the
 * threshold is twice the last (up to the window). An attempt that ends in an error stays counted: failing closed.
 * Counters live in Postgres, shared by every API process of the deployment (`scope`), stored under hashed keys.
 */
export function createCredentialThrottle(deps: { orm: Orm; scope: string; limits: CredentialThrottleLimits; gates: GateRecorder; devices: DeviceCookies; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  const { limits } = deps;
  const timing = (): ThrottleTiming => ({ now: now(), windowMs: limits.windowMinutes * 60_000, firstLockMs: limits.firstLockSeconds * 1000 });
  const key = (kind: string, subject: string) => createHash('sha256').update(`${deps.scope}\n${kind}\n${subject}`).digest('hex');

  /** The counters an attempt answers to (who asks: address, device; about which account), and the caller's own among them. */
  function countersOf(request: Request, account: string | undefined): { counters: ThrottleCounter[]; own: string[] } {
    const client = ipKeyGenerator(request.ip ?? 'unknown');
    const fromClient: ThrottleCounter = { key: key('client', client), threshold: limits.failuresPerClient };
    if (account === undefined) return { counters: [fromClient], own: [] };
    const pair: ThrottleCounter = { key: key('pair', `${account}\n${client}`), threshold: limits.failuresPerClientAccount };
    const device = deps.devices.deviceOf(presentedDeviceCookie(request), account);
    if (device) {
      // A known device answers for itself wherever it connects from, and is spared the account-wide lock.
      const ofDevice: ThrottleCounter = { key: key('device', device), threshold: limits.failuresPerClientAccount };
      return { counters: [fromClient, ofDevice], own: [ofDevice.key, pair.key] };
    }
    const accountWide: ThrottleCounter = { key: key('account', account), threshold: limits.failuresPerAccount };
    return { counters: [fromClient, pair, accountWide], own: [pair.key] };
  }

  const countersFor = (request: Request, account: string | undefined) => countersOf(request, account === undefined ? undefined : normalAccount(account));

  return {
    /**
     * Counts the attempt as a failure, or answers the 429 when any of its counters is locked (the credential is then
     * not checked at all, and the attempt is not counted). Every attempt this lets through must end in `succeeded` or
     * `released` unless its credential was wrong.
     */
    async reserve(request: Request, boundary: CredentialBoundary, account?: string): Promise<Problem | undefined> {
      const { counters } = countersFor(request, account);
      const em = deps.orm.em.fork();
      const at = timing();
      const { refused, reserved } = await reserveCredentialAttempt(em, counters, at);
      await pruneCredentialFailures(em, at);
      if (!refused) return undefined;
      await releaseCredentialAttempt(em, counters.filter((counter) => reserved.includes(counter.key)), at.now);
      const until = await lockedUntil(em, counters.map((counter) => counter.key), at.now);
      // The lock may have been lifted meanwhile (a reservation given back): then a second is enough.
      const retryAfter = until ? Math.max(1, Math.ceil((until.getTime() - at.now.getTime()) / 1000)) : 1;
      return gateProblem(deps.gates.record(throttle('protection', 'too many failed sign-ins; try again later', retryAfter), { boundary }));
    },

    /** The attempt was no failure (a malformed or weak submission, a gate refusing a right credential): give it back. */
    async released(request: Request, account?: string): Promise<void> {
      await releaseCredentialAttempt(deps.orm.em.fork(), countersFor(request, account).counters, now());
    },

    /**
     * The account's credential was right: the caller's own counters (this address's, this device's) start afresh, the
     * others get the attempt back, and the client gets (or renews) the account's device cookie. The address and
     * account-wide counters are not reset: one success must not wipe out what others' failures earned.
     */
    async succeeded(request: Request, response: Response, account: string): Promise<void> {
      const normal = normalAccount(account);
      const { counters, own } = countersOf(request, normal);
      const em = deps.orm.em.fork();
      await clearCredentialFailures(em, own);
      await releaseCredentialAttempt(em, counters.filter((counter) => !own.includes(counter.key)), now());
      const cookie = deps.devices.issue(normal);
      response.cookie(DEVICE_COOKIE, cookie.value, { httpOnly: true, secure: request.secure, sameSite: 'strict', path: '/api/v1', maxAge: cookie.maxAgeMs });
    },
  };
}

export type CredentialThrottle = ReturnType<typeof createCredentialThrottle>;
