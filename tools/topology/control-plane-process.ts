import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { stopChild } from '../../src/temporal/dev-server';

const ROOT = path.resolve(__dirname, '../..');

export type ProcessRole = 'api' | 'worker';

/** One control-plane OS process of the fleet: the same entry point as `npm start`, one role, its own ports. */
export interface ControlPlaneProcess {
  name: string;
  role: ProcessRole;
  /** Its API (api role) or its probes and metrics (worker role). */
  url: string;
  pid(): number | undefined;
  isRunning(): boolean;
  /** SIGKILL: the crash drill. The process gets no chance to drain. */
  kill(): Promise<void>;
  /** Starts it again with the same environment and waits until it is ready. */
  restart(): Promise<void>;
  /** SIGTERM and wait: the orderly stop an operator's Ctrl-C gives. */
  stop(): Promise<void>;
}

export async function startControlPlaneProcess(options: {
  name: string;
  role: ProcessRole;
  port: number;
  environment: Record<string, string>;
  logFile: string;
}): Promise<ControlPlaneProcess> {
  const url = `http://127.0.0.1:${options.port}`;
  const environment: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...options.environment,
    PROCESS_ROLES: options.role,
    ...(options.role === 'api' ? { API_PORT: String(options.port) } : { WORKER_HTTP_PORT: String(options.port) }),
  };
  let child: ChildProcess | undefined;
  const launch = async () => {
    const log = createWriteStream(options.logFile, { flags: 'a' });
    child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], { cwd: ROOT, env: environment, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    await waitUntilReady(url, child, options.name, options.logFile);
  };
  await launch();
  return {
    name: options.name,
    role: options.role,
    url,
    pid: () => child?.pid,
    isRunning: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    async kill() {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
    restart: launch,
    stop: () => (child ? stopChild(child, 30_000) : Promise.resolve()),
  };
}

/** Ready means its own /readyz answers 200: Postgres, Temporal and (for a worker) its worker running. */
async function waitUntilReady(url: string, child: ChildProcess, name: string, logFile: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`${name} exited with code ${child.exitCode} before it was ready; the end of its log (${logFile}):\n${await logTail(logFile)}`);
    }
    try {
      if ((await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) })).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} was not ready at ${url} within ${timeoutMs / 1000} s (log: ${logFile})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/** The last lines of a process's log, so a failed start says why even after the test's data directory is gone. */
async function logTail(logFile: string, lines = 30): Promise<string> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  return text.split('\n').slice(-lines).join('\n');
}
