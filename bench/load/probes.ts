import { Client } from 'pg';

/** Postgres connections of the control plane's database right now (the probe's own left out). */
export async function sampleConnections(database: Client): Promise<{ total: number; active: number }> {
  const result = await database.query<{ total: string; active: string }>(
    `select count(*) as total, count(*) filter (where state = 'active') as active
       from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`,
  );
  return { total: Number(result.rows[0]!.total), active: Number(result.rows[0]!.active) };
}

/** Runs admitted and not finished: the work the worker still owes. */
export async function unfinishedRuns(database: Client): Promise<number> {
  const result = await database.query<{ count: string }>('select count(*) from run where outcome is null');
  return Number(result.rows[0]!.count);
}

/** A histogram summed over its labels: cumulative counts by upper bound, and its sum and count. */
export interface Histogram {
  buckets: Map<number, number>;
  sum: number;
  count: number;
}

/** The histograms of `/metrics` whose names start with one of `prefixes`, each summed over every label set. */
export function readHistograms(exposition: string, prefixes: string[]): Record<string, Histogram> {
  const histograms: Record<string, Histogram> = {};
  for (const line of exposition.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-z_]+?)_(bucket|sum|count)(\{[^}]*\})? ([0-9.eE+-]+|\+Inf|NaN)$/.exec(line);
    if (!match) continue;
    const [, name, part, labels, value] = match;
    const prefix = prefixes.find((candidate) => name!.startsWith(candidate));
    if (!prefix) continue;
    const histogram = (histograms[prefix] ??= { buckets: new Map(), sum: 0, count: 0 });
    if (part === 'sum') histogram.sum += Number(value);
    else if (part === 'count') histogram.count += Number(value);
    else {
      const bound = /le="([^"]+)"/.exec(labels ?? '')?.[1];
      const upper = bound === '+Inf' ? Infinity : Number(bound);
      histogram.buckets.set(upper, (histogram.buckets.get(upper) ?? 0) + Number(value));
    }
  }
  return histograms;
}

/** Mean and p99 (the upper bound of the bucket it falls in) of what `after` observed since `before`. */
export function observedBetween(before: Histogram | undefined, after: Histogram | undefined): { count: number; meanMs: number; p99UpToMs: number } {
  if (!after) return { count: 0, meanMs: NaN, p99UpToMs: NaN };
  const count = after.count - (before?.count ?? 0);
  if (count <= 0) return { count: 0, meanMs: NaN, p99UpToMs: NaN };
  const meanMs = ((after.sum - (before?.sum ?? 0)) / count) * 1000;
  const bounds = [...after.buckets.keys()].sort((a, b) => a - b);
  const p99Bound = bounds.find((bound) => (after.buckets.get(bound)! - (before?.buckets.get(bound) ?? 0)) >= 0.99 * count) ?? Infinity;
  return { count, meanMs, p99UpToMs: p99Bound * 1000 };
}
