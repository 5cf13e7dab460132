import { createServer } from 'node:net';
import path from 'node:path';

/** A port the OS says is free now, so suites (and several checkouts) run side by side without clashing. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Per run, so a crashed earlier run or a parallel one never shares a data directory. */
export const testDataDirectory = (runId: string | number) => path.resolve(__dirname, '../../.data/test', String(runId));
