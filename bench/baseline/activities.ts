/** Benchmark baseline only: an activity that does nothing, to measure Temporal's own per-step cost. */
export function createBaselineActivities() {
  return {
    async noop(_input: { index: number }): Promise<void> {},
  };
}

export type BaselineActivities = ReturnType<typeof createBaselineActivities>;
