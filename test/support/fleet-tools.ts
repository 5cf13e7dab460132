import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const TOOLS = path.resolve(__dirname, '../../.tools');
/** What `install-tools.sh fleet` leaves behind when it is done: each tool's version stamp. */
const STAMPS = ['temporal-server/.version', 'temporal-ui-server/.version', 'promtool/.version'].map((stamp) => path.join(TOOLS, stamp));
const BUILD_PID = path.join(TOOLS, 'fleet-build.pid');
const BUILD_LOG = path.join(TOOLS, 'fleet-build.log');

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Resolves once the production shape's tools are built. `npm test` starts their build in the background
 * (scripts/setup.sh) so the other tests run meanwhile; a test that needs them waits here for it.
 */
export async function fleetToolsReady(timeoutMs = 25 * 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (STAMPS.every((stamp) => existsSync(stamp))) return;
    const pid = existsSync(BUILD_PID) ? Number(readFileSync(BUILD_PID, 'utf8')) : NaN;
    if (!Number.isInteger(pid) || !isAlive(pid) || Date.now() > deadline) {
      const log = existsSync(BUILD_LOG) ? readFileSync(BUILD_LOG, 'utf8').split('\n').slice(-20).join('\n') : '(no build log)';
      throw new Error(`the production shape's tools are not built (run \`bash scripts/install-tools.sh fleet\`); last lines of ${BUILD_LOG}:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}
