/** Durations a tenant writes in a plan: a whole number and one unit, `30s`, `15m`, `2h`, `7d`. Nothing fractional or compound. */
export const DURATION_PATTERN = /^([1-9][0-9]{0,6})(s|m|h|d)$/;

/** One day: the unit of retention, trials and grace periods. */
export const DAY_MS = 86_400_000;

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: DAY_MS } as const;

/** Milliseconds of a duration that matched DURATION_PATTERN; throws on anything else, so callers validate first. */
export function durationMs(duration: string): number {
  const match = DURATION_PATTERN.exec(duration);
  if (!match) throw new RangeError(`not a duration: ${duration}`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

export function isDuration(value: string): boolean {
  return DURATION_PATTERN.test(value);
}
