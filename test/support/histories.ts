import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { temporal } from '@temporalio/proto';

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
