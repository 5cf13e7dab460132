import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker, type InjectedSinks } from '@temporalio/worker';
import type { ControlPlaneSinks } from '../../src/contracts/sinks';
import { workflowBundle } from './stack';

export const HISTORIES_DIRECTORY = path.resolve(__dirname, '../replay/histories');

/**
 * Loads recorded histories as protobuf objects. Going through History.fromObject rather than the SDK's JSON loader
 * keeps jest's module registry (which duplicates protobufjs) out of the way.
 */
export async function loadHistories(prefix: string): Promise<Array<{ workflowId: string; history: temporal.api.history.v1.IHistory }>> {
  const files = (await readdir(HISTORIES_DIRECTORY)).filter((file) => file.startsWith(prefix) && file.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => ({
      workflowId: file.replace(/\.json$/, ''),
      history: temporal.api.history.v1.History.fromObject(JSON.parse(await readFile(path.join(HISTORIES_DIRECTORY, file), 'utf8'))),
    })),
  );
}

const ignored = { fn: () => undefined, callDuringReplay: false };
/** The worker's sinks, doing nothing: replay must find them registered, and never calls them. */
const replaySinks: InjectedSinks<ControlPlaneSinks> = {
  events: { emit: ignored },
  metrics: { provisioningFinished: ignored, runFinished: ignored, lifecycleTransition: ignored },
};

/** The names of the updates a history accepted: shows which handler names a set of histories covers. */
export function acceptedUpdateNames(history: temporal.api.history.v1.IHistory): string[] {
  return (history.events ?? []).flatMap((event) => {
    const name = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name;
    return name ? [name] : [];
  });
}

/** Replays every history whose file starts with `prefix` against today's workflow code: [name, error message]. */
export async function replayHistories(prefix: string): Promise<{ names: string[]; outcomes: Array<[string, string | undefined]> }> {
  const histories = await loadHistories(prefix);
  const outcomes: Array<[string, string | undefined]> = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: await workflowBundle(), sinks: replaySinks }, histories)) {
    outcomes.push([result.workflowId, result.error?.message]);
  }
  return { names: histories.map(({ workflowId }) => workflowId), outcomes };
}
