/** A bucket this process saw over its quota, and when its window ends (by this process's clock). */
export interface RememberedRefusal {
  bucket: string;
  untilMs: number;
}

/**
 * The buckets this process has seen over their quota, until their windows end. While a bucket is remembered, its
 * requests are refused from memory: a flood costs no database statement after the first refusal each process sees,
 * and an invalid-credential flood from an address no credential lookup. Bounded, so a flood of distinct addresses
 * cannot grow the process: past the bound the oldest entries go (they are only a saving; the counters stay in Postgres).
 */
export class RefusalMemory {
  private readonly refused = new Map<string, RememberedRefusal>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly capacity = 50_000,
  ) {}

  remember(bucket: string, msLeft: number): void {
    this.refused.delete(bucket);
    this.refused.set(bucket, { bucket, untilMs: this.now() + Math.max(1, msLeft) });
    if (this.refused.size > this.capacity) this.refused.delete(this.refused.keys().next().value!);
  }

  /** The first of `buckets` still refused, in the order given. */
  refusing(buckets: readonly string[]): RememberedRefusal | undefined {
    for (const bucket of buckets) {
      const remembered = this.refused.get(bucket);
      if (!remembered) continue;
      if (remembered.untilMs > this.now()) return remembered;
      this.refused.delete(bucket);
    }
    return undefined;
  }
}
