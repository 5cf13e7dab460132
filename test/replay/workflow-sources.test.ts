import { readFile } from 'node:fs/promises';
import { WORKFLOW_SOURCE_STAMP, workflowSourceDigests } from '../../scripts/histories/workflow-sources';

/**
 * A workflow change must be checked against recorded histories before it ships: scripts/record-histories.ts records
 * any missing history and stamps the workflow code it ran. A file that differs from the stamp was never recorded.
 */
describe('workflow code and recorded histories', () => {
  it('has recorded histories for the workflow code as it is now', async () => {
    const stamped = JSON.parse(await readFile(WORKFLOW_SOURCE_STAMP, 'utf8')) as Record<string, string>;
    const unrecorded = Object.entries(await workflowSourceDigests())
      .filter(([file, digest]) => stamped[file] !== digest)
      .map(([file]) => `workflows/${file} changed since histories were recorded: run npx tsx scripts/record-histories.ts`);
    expect(unrecorded).toEqual([]);
  });
});
