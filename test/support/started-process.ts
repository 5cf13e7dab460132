import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { RECONCILER_SCHEDULE_ID } from '../../src/temporal/schedules';
import { freePort } from './ports';
import { testDatabaseUrl, testTemporalAddress, uniqueTaskQueue } from './stack';

const ROOT = path.resolve(__dirname, '../..');
const START_DEADLINE_MS = 120_000;
const STOP_DEADLINE_MS = 30_000;

export interface StartedControlPlane {
  url: string;
  /** What the process printed, for a failure message. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * The control plane as `npm start` runs it (scripts/start.ts in a process of its own: the Temporal SDK runtime
 * exporting worker metrics, API and worker together), aimed at the suite's Postgres and Temporal. Its reconciler
 * schedule lands on the shared dev server: stop() removes it.
 */
export async function startControlPlaneProcess(): Promise<StartedControlPlane> {
  const dataDirectory = await mkdtemp(path.join(tmpdir(), 'control-plane-process-'));
  const env = {
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDirectory,
    DATABASE_URL: testDatabaseUrl(),
    TEMPORAL_ADDRESS: testTemporalAddress(),
    API_HOST: '127.0.0.1',
    API_PORT: String(await freePort()),
    WORKER_METRICS_PORT: String(await freePort()),
    WORKER_HTTP_PORT: String(await freePort()),
    TEMPORAL_TASK_QUEUE: uniqueTaskQueue('process'),
    HOSTED_MODE: 'true',
    // Its schedule must not fire on the shared server while the suite runs.
    RECONCILER_INTERVAL_SECONDS: '86400',
  };
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'start.ts')], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_DEADLINE_MS);
      await exited;
      clearTimeout(timer);
    }
    await removeReconcilerSchedule();
    await rm(dataDirectory, { recursive: true, force: true });
  };

  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not up within ${START_DEADLINE_MS} ms`)), START_DEADLINE_MS);
      const ready = () => {
        const match = /control plane is up[\s\S]*?(http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      };
      child.stdout!.on('data', ready);
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`exited with ${child.exitCode ?? child.signalCode} before it was up`));
      });
    });
    return { url, output: () => output, stop };
  } catch (error) {
    await stop();
    throw new Error(`scripts/start.ts: ${(error as Error).message}\n${output.slice(-4000)}`);
  }
}

async function removeReconcilerSchedule(): Promise<void> {
  const connection = await Connection.connect({ address: testTemporalAddress() });
  try {
    await new Client({ connection }).schedule.getHandle(RECONCILER_SCHEDULE_ID).delete();
  } catch {
    // Never created: the process did not get that far.
  } finally {
    await connection.close();
  }
}
