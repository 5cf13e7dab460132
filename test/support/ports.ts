import path from 'node:path';

export { freePort } from '../../tools/fixtures/ports';

/** Per run, so a crashed earlier run or a parallel one never shares a data directory. */
export const testDataDirectory = (runId: string | number) => path.resolve(__dirname, '../../.data/test', String(runId));
