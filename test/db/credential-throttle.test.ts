import { randomUUID } from 'node:crypto';
import { clearCredentialFailures, lockedUntil, releaseCredentialAttempt, reserveCredentialAttempt, type ThrottleCounter, type ThrottleTiming } from '../../src/db/credential-throttle';
import type { Orm } from '../../src/db/orm';
import { testOrm } from '../support/stack';

let orm: Orm;
beforeAll(async () => {
  orm = await testOrm();
});
afterAll(() => orm.close(true));

const MINUTE = 60_000;
const start = new Date('2026-12-06T00:00:00Z').getTime();
const at = (ms: number): ThrottleTiming => ({ now: new Date(start + ms), windowMs: 15 * MINUTE, firstLockMs: 30_000 });
/** One failed attempt on a single counter (reserved and never given back). */
const recordCredentialFailure = (em: Orm['em'], counter: ThrottleCounter, timing: ThrottleTiming) => reserveCredentialAttempt(em, [counter], timing);
const freshKey = () => randomUUID().replace(/-/g, '');
const lockMsAt = async (key: string, ms: number) => {
  const until = await lockedUntil(orm.em.fork(), [key], new Date(start + ms));
  return until ? until.getTime() - (start + ms) : 0;
};

describe('credential throttle counters', () => {
  it('lock at the threshold, and each later failure doubles the lock up to the window', async () => {
    const key = randomUUID().replace(/-/g, '');
    const counter = { key, threshold: 3 };
    for (const ms of [0, 1_000]) await recordCredentialFailure(orm.em.fork(), counter, at(ms));
    expect(await lockMsAt(key, 1_000)).toBe(0);
    await recordCredentialFailure(orm.em.fork(), counter, at(2_000));
    expect(await lockMsAt(key, 2_000)).toBe(30_000);
    // Past the first lock, the next failure earns twice as long, then four times, never more than the window.
    await recordCredentialFailure(orm.em.fork(), counter, at(40_000));
    expect(await lockMsAt(key, 40_000)).toBe(60_000);
    await recordCredentialFailure(orm.em.fork(), counter, at(110_000));
    expect(await lockMsAt(key, 110_000)).toBe(120_000);
    await recordCredentialFailure(orm.em.fork(), counter, at(300_000));
    expect(await lockMsAt(key, 300_000)).toBe(240_000);
    // An attempt under a running lock is refused and not counted: the lock neither grows nor moves.
    expect(await reserveCredentialAttempt(orm.em.fork(), [counter], at(400_000))).toEqual({ refused: true, reserved: [] });
    expect(await lockMsAt(key, 400_000)).toBe(140_000);
    await recordCredentialFailure(orm.em.fork(), counter, at(540_000));
    expect(await lockMsAt(key, 540_000)).toBe(480_000);
    await recordCredentialFailure(orm.em.fork(), counter, at(1_020_000));
    expect(await lockMsAt(key, 1_020_000)).toBe(15 * MINUTE);
  });

  it('forget failures after a quiet window counted from the end of the last lock, and on a success', async () => {
    const key = randomUUID().replace(/-/g, '');
    const counter = { key, threshold: 2 };
    await recordCredentialFailure(orm.em.fork(), counter, at(0));
    await recordCredentialFailure(orm.em.fork(), counter, at(1_000));
    expect(await lockMsAt(key, 1_000)).toBe(30_000);
    // 31 s + 15 min after the lock began: quiet for a whole window since it ended, so this is a first failure again.
    const later = 31_000 + 15 * MINUTE + 1_000;
    await recordCredentialFailure(orm.em.fork(), counter, at(later));
    expect(await lockMsAt(key, later)).toBe(0);
    await clearCredentialFailures(orm.em.fork(), [key]);
    await recordCredentialFailure(orm.em.fork(), counter, at(later + 1_000));
    expect(await lockMsAt(key, later + 1_000)).toBe(0);
  });

  it('let no more concurrent attempts through than the threshold, however many arrive at once', async () => {
    const counter = { key: freshKey(), threshold: 5 };
    const answers = await Promise.all(Array.from({ length: 30 }, () => reserveCredentialAttempt(orm.em.fork(), [counter], at(0))));
    expect(answers.filter((answer) => !answer.refused)).toHaveLength(5);
    expect(await lockMsAt(counter.key, 0)).toBe(30_000);
  });

  it('refuse an attempt when any of its counters is locked, naming the counters that took it to be given back', async () => {
    const locked = { key: freshKey(), threshold: 1 };
    const open = { key: freshKey(), threshold: 5 };
    await recordCredentialFailure(orm.em.fork(), locked, at(0));
    expect(await reserveCredentialAttempt(orm.em.fork(), [locked, open], at(1_000))).toEqual({ refused: true, reserved: [open.key] });
  });

  it('give an attempt back: one failure less, and the lock it took lifted', async () => {
    const counter = { key: freshKey(), threshold: 2 };
    await recordCredentialFailure(orm.em.fork(), counter, at(0));
    await recordCredentialFailure(orm.em.fork(), counter, at(1_000));
    expect(await lockMsAt(counter.key, 1_000)).toBe(30_000);
    await releaseCredentialAttempt(orm.em.fork(), [counter], new Date(start + 2_000));
    expect(await lockMsAt(counter.key, 2_000)).toBe(0);
    // One failure is left: the next attempt reaches the threshold again and locks.
    expect(await reserveCredentialAttempt(orm.em.fork(), [counter], at(3_000))).toEqual({ refused: false, reserved: [counter.key] });
    expect(await lockMsAt(counter.key, 3_000)).toBe(30_000);
  });
});
