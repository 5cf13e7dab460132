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

/** Rows quiet for longer than a window hold nothing; each attempt clears a few. */
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

/** The counters as one bound parameter (knex would spread an array into a list). */
const countersJson = (counters: ThrottleCounter[]) => JSON.stringify(counters.map(({ key, threshold }) => ({ key, threshold })));

/**
 * Counts an attempt as a failure before its credential is checked, in one statement for all its counters, so that
 * concurrent attempts (from any process) cannot all pass a lock check made before any of them failed. A counter under
 * a running lock is left as it is; any such counter refuses the attempt (`refused`), and the counters that did take
 * it are in `reserved` (the caller gives those back). From the threshold on, each failure (re)locks its counter for
 * firstLock × 2^(failures − threshold), at most the window: the attempt that reaches the threshold locks out the
 * attempts behind it while it is checked. Rows are taken in key order, so concurrent attempts cannot deadlock.
 */
export async function reserveCredentialAttempt(em: EntityManager, counters: ThrottleCounter[], timing: ThrottleTiming): Promise<{ refused: boolean; reserved: string[] }> {
  if (counters.length === 0) return { refused: false, reserved: [] };
  const forgottenBefore = new Date(timing.now.getTime() - timing.windowMs);
  const threshold = '(select c.threshold from c where c.key = t.key)';
  // The failures the row will hold: the old count plus one, or one if it was quiet for a whole window.
  const next = `(case when greatest(t.last_failure_at, coalesce(t.locked_until, t.last_failure_at)) < ? then 1 else t.failures + 1 end)`;
  const rows = await em.execute<Array<{ key: string }>>(
    `with c as (select * from jsonb_to_recordset(?::jsonb) as c(key text, threshold int))
     insert into credential_throttle as t (key, failures, last_failure_at, locked_until)
       select c.key, 1, ?, case when 1 >= c.threshold then ?::timestamptz + least(?, ? * power(2, 1 - c.threshold)) * interval '1 millisecond' end
       from c order by c.key
     on conflict (key) do update set
       failures = ${next},
       last_failure_at = excluded.last_failure_at,
       locked_until = case when ${next} >= ${threshold} then ?::timestamptz + least(?, ? * power(2, ${next} - ${threshold})) * interval '1 millisecond' else t.locked_until end
     where t.locked_until is null or t.locked_until <= ?
     returning t.key`,
    [
      countersJson(counters), timing.now, timing.now, timing.windowMs, timing.firstLockMs,
      forgottenBefore,
      forgottenBefore, timing.now, timing.windowMs, timing.firstLockMs, forgottenBefore,
      timing.now,
    ],
  );
  return { refused: rows.length < counters.length, reserved: rows.map((row) => row.key) };
}

/**
 * Gives reserved attempts back (the credential was right, or the outcome was no failure): one failure less, and the
 * lock the attempt took is lifted (below the threshold none is left; above it, the one running was the attempt's own,
 * since a reservation is refused while another runs). The later last-failure time stays: forgetting comes no sooner.
 */
export async function releaseCredentialAttempt(em: EntityManager, counters: ThrottleCounter[], now: Date): Promise<void> {
  if (counters.length === 0) return;
  await em.execute(
    `with c as (select * from jsonb_to_recordset(?::jsonb) as c(key text, threshold int)),
     taken as (select t.key, c.threshold from credential_throttle t join c on c.key = t.key order by t.key for update of t)
     update credential_throttle t set
       failures = greatest(t.failures - 1, 0),
       locked_until = case when t.failures - 1 < taken.threshold then null else least(t.locked_until, ?) end
     from taken where t.key = taken.key`,
    [countersJson(counters), now],
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
