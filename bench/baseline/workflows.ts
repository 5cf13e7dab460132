import { proxyActivities } from '@temporalio/workflow';
import type { BaselineActivities } from './activities';

const { noop } = proxyActivities<BaselineActivities>({
  startToCloseTimeout: '10 seconds',
  // Same retry shape as the provisioning steps, so the benchmark compares like with like.
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumAttempts: 8 },
});

/** Benchmark baseline only: the bare cost of a workflow running `activityCount` no-op activities in sequence. */
export async function baselineWorkflow(input: { activityCount: number }): Promise<number> {
  for (let index = 0; index < input.activityCount; index += 1) await noop({ index });
  return input.activityCount;
}
