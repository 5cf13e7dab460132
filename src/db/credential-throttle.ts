import type { EntityManager } from '@mikro-orm/postgresql';

/** One counter of failed credential checks: its hashed key, failures before it locks, and how its locks grow. */
export interface ThrottleCounter {
  key: string;
  threshold: number;
}

export interface ThrottleTiming {
  now: Date;
  /** Failures are forgotten after this long without one (counted from the end of the last lock). */
  windowMs: number;
  /** The first lock; each later failure doubles it, never past `windowMs`. */
  firstLockMs: number;
}

/** Rows quiet for longer than a window hold nothing; each failure clears a few. */
const PRUNE_BATCH = 20;

/** The latest lock still running among the keys, or undefined when none is locked. */
export async function lockedUntil(em: EntityManager, keys: string[], now: Date): Promise<Date | undefined> {
  if (keys.length === 0) return undefined;
  const [row] = await em.execute<Array<{ until: Date | null }>>(
    `select max(locked_until) as until from credential_throttle where key in (${keys.map(() => '?').join(', ')}) and locked_until > ?`,
    [...keys, now],
  );
  return row?.until ? new Date(row.until) : undefined;
}

/**
 * Counts one failure on a counter in one statement (so concurrent failures from any process all count). From the
 * threshold on, each failure (re)locks it for firstLock × 2^(failures − threshold), at most the window.
 */
export async function recordCredentialFailure(em: EntityManager, counter: ThrottleCounter, timing: ThrottleTiming): Promise<void> {
  const forgottenBefore = new Date(timing.now.getTime() - timing.windowMs);
  // The failures the row will hold: the old count plus one, or one if it was quiet for a whole window.
  const next = `(case when greatest(t.last_failure_at, coalesce(t.locked_until, t.last_failure_at)) < ? then 1 else t.failures + 1 end)`;
  await em.execute(
    `insert into credential_throttle as t (key, failures, last_failure_at, locked_until)
       values (?, 1, ?, case when 1 >= ? then ?::timestamptz + least(?, ? * power(2, 1 - ?)) * interval '1 millisecond' end)
     on conflict (key) do update set
       failures = ${next},
       last_failure_at = excluded.last_failure_at,
       locked_until = case when ${next} >= ? then ?::timestamptz + least(?, ? * power(2, ${next} - ?)) * interval '1 millisecond' else t.locked_until end`,
    [
      counter.key, timing.now, counter.threshold, timing.now, timing.windowMs, timing.firstLockMs, counter.threshold,
      forgottenBefore,
      forgottenBefore, counter.threshold, timing.now, timing.windowMs, timing.firstLockMs, forgottenBefore, counter.threshold,
    ],
    'run',
  );
}

/** A success forgets these counters' failures (the caller's own: never a counter others' failures share). */
export async function clearCredentialFailures(em: EntityManager, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  await em.execute(`delete from credential_throttle where key in (${keys.map(() => '?').join(', ')})`, keys, 'run');
}

/** Forgets a few counters nothing has touched for a window and that hold no running lock. */
export async function pruneCredentialFailures(em: EntityManager, timing: ThrottleTiming): Promise<void> {
  const forgottenBefore = new Date(timing.now.getTime() - timing.windowMs);
  await em.execute(
    `delete from credential_throttle where key in (select key from credential_throttle where last_failure_at < ? and (locked_until is null or locked_until < ?) limit ${PRUNE_BATCH})`,
    [forgottenBefore, forgottenBefore],
    'run',
  );
}
