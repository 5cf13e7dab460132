import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { CUSTOM_SEARCH_ATTRIBUTES } from './search-attributes';

export interface DevServer {
  address: string;
  uiUrl?: string;
  stop(): Promise<void>;
}

export const TEMPORAL_CLI = path.resolve(__dirname, '../../.tools/bin/temporal');

const SEARCH_ATTRIBUTE_TYPE: Record<string, string> = { KEYWORD: 'Keyword', BOOL: 'Bool', TEXT: 'Text', INT: 'Int', DATETIME: 'Datetime' };

/**
 * Starts the Temporal CLI dev server with the Web UI and the project's search attributes. With a database file the
 * state survives restarts; SQLite WAL with relaxed fsync keeps it fast enough for the benchmarks.
 */
export async function startDevServer(options: {
  port: number;
  uiPort?: number;
  databaseFile?: string;
  log?: (line: string) => void;
}): Promise<DevServer> {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(options.port), '--log-level', 'warn'];
  if (options.uiPort) args.push('--ui-port', String(options.uiPort), '--ui-ip', '127.0.0.1');
  else args.push('--headless');
  if (options.databaseFile) {
    await mkdir(path.dirname(options.databaseFile), { recursive: true });
    args.push('--db-filename', options.databaseFile);
  }
  args.push('--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');
  for (const key of CUSTOM_SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=${SEARCH_ATTRIBUTE_TYPE[key.type]}`);

  const child = spawn(TEMPORAL_CLI, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => options.log?.(chunk.toString().trim()));
  child.stderr?.on('data', (chunk: Buffer) => options.log?.(chunk.toString().trim()));
  const address = `127.0.0.1:${options.port}`;
  try {
    await waitUntilReachable(address, child);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    address,
    uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : undefined,
    stop: () => stopChild(child),
  };
}

/** Resolves once the frontend at `address` answers; rejects early if the child exits first. */
export async function waitUntilReachable(address: string, child: ChildProcess, deadlineMs = 60_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`temporal server exited with code ${child.exitCode}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new Error(`temporal server not reachable at ${address}: ${String(lastError)}`);
}

/** SIGTERM, then SIGKILL if it does not exit in time: no orphan survives the caller. */
export function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
