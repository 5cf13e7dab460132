import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { RunInput } from '../../src/contracts/run';

/**
 * Test-only, on the worker's side: every attempt of `openRun` for the chosen runs fails before it writes, as if
 * Postgres refused it. The run's own retries run out, it goes on DEGRADED (a trace write), and it has no `run` row.
 */
export function failOpeningWriteOf(runIds: ReadonlySet<string>): ActivityInterceptorsFactory {
  return (context) => ({
    inbound: {
      async execute(input, next) {
        const [run] = input.args as [Partial<RunInput> | undefined];
        if (context.info.activityType === 'openRun' && run?.runId !== undefined && runIds.has(run.runId)) {
          throw ApplicationFailure.create({ type: 'InjectedOpeningWriteFault', message: `injected failure of the opening write of run ${run.runId}` });
        }
        return next(input);
      },
    },
  });
}
