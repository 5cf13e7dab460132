import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

const WORKFLOWS_DIRECTORY = path.resolve(__dirname, '../../workflows');
export const WORKFLOW_SOURCE_STAMP = path.resolve(__dirname, '../../test/replay/workflow-sources.json');

/** SHA-256 of every file in workflows/, by file name: what the recorded histories were last checked against. */
export async function workflowSourceDigests(): Promise<Record<string, string>> {
  const files = (await readdir(WORKFLOWS_DIRECTORY)).filter((file) => file.endsWith('.ts')).sort();
  const digests: Record<string, string> = {};
  for (const file of files) {
    digests[file] = createHash('sha256').update(await readFile(path.join(WORKFLOWS_DIRECTORY, file))).digest('hex');
  }
  return digests;
}

export async function writeWorkflowSourceStamp(): Promise<void> {
  await writeFile(WORKFLOW_SOURCE_STAMP, `${JSON.stringify(await workflowSourceDigests(), null, 2)}\n`);
  console.log(`stamped ${path.relative(process.cwd(), WORKFLOW_SOURCE_STAMP)}`);
}
