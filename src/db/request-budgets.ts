import type { Orm } from './orm';

/** One bucket a request is counted in: a stable name and the length of its window. */
export interface BudgetBucket {
  bucket: string;
  windowSeconds: number;
}

/** A bucket's hits in its current window, this request included, and how long the window still runs. */
export interface BucketCount {
  bucket: string;
  hits: number;
  msLeft: number;
}

interface CountRow {
  bucket: string;
  hits: number;
  ms_left: string | number;
}

/**
 * A fixed window per bucket that ends by the database's clock: the first hit after a window ended opens the next one.
 * `on conflict ... returning` counts and reads in one round trip, and the row lock serialises concurrent hits.
 */
const UPSERT_HIT = `insert into request_budget_counter as counter (bucket, hits, window_ends_at)`;
const ON_CONFLICT_COUNT = `on conflict (bucket) do update set
      hits = case when counter.window_ends_at <= now() then 1 else counter.hits + 1 end,
      window_ends_at = case when counter.window_ends_at <= now() then excluded.window_ends_at else counter.window_ends_at end
    returning bucket, hits, window_ends_at`;

/**
 * One statement counts a request in a narrow bucket (its credential, its address) and, while the narrow one is still
 * within `narrowBudget`, in the wide bucket around it (its tenant, the anonymous ceiling). A caller over its own
 * budget so never spends the budget it shares: a runaway key does not starve its tenant, one flooding address does
 * not exhaust the ceiling every anonymous client shares. The narrow row is always locked first, the wide one second,
 * so two statements never wait on each other in opposite orders.
 */
const COUNT_HIT = `
  with narrow as (
    ${UPSERT_HIT} values (?::text, 1, now() + make_interval(secs => ?::int))
    ${ON_CONFLICT_COUNT}
  ), wide as (
    ${UPSERT_HIT} select ?::text, 1, now() + make_interval(secs => ?::int) from narrow where ?::text is not null and narrow.hits <= ?::int
    ${ON_CONFLICT_COUNT}
  )
  select bucket, hits, extract(epoch from window_ends_at - now()) * 1000 as ms_left from narrow
  union all
  select bucket, hits, extract(epoch from window_ends_at - now()) * 1000 as ms_left from wide`;

const CLEAR_ENDED = `delete from request_budget_counter where window_ends_at < now() - interval '1 minute'`;

export function createRequestBudgets(orm: Orm) {
  const connection = () => orm.em.getConnection();
  return {
    /** Counts one request; the wide bucket's count is absent when the narrow one was already over `narrowBudget`. */
    async countHit(narrow: BudgetBucket, narrowBudget: number, wide?: BudgetBucket): Promise<{ narrow: BucketCount; wide?: BucketCount }> {
      const rows = await connection().execute<CountRow[]>(COUNT_HIT, [
        narrow.bucket,
        narrow.windowSeconds,
        wide?.bucket ?? null,
        wide?.windowSeconds ?? 0,
        wide?.bucket ?? null,
        narrowBudget,
      ]);
      const counts = rows.map((row): BucketCount => ({ bucket: row.bucket, hits: Number(row.hits), msLeft: Math.max(0, Number(row.ms_left)) }));
      return { narrow: counts.find((count) => count.bucket === narrow.bucket)!, wide: counts.find((count) => count.bucket === wide?.bucket) };
    },

    /** Drops windows that ended: nothing reads them again, a new window starts with a fresh row. */
    async clearEnded(): Promise<number> {
      const result = await connection().execute<{ affectedRows: number }>(CLEAR_ENDED, [], 'run');
      return result.affectedRows;
    },
  };
}

export type RequestBudgets = ReturnType<typeof createRequestBudgets>;
