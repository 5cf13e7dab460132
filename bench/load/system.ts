import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { chmod, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../tools/fixtures/ports';

export interface SystemUnderLoad {
  /** The `npm start` process: API and worker, parent of the Temporal dev server and of Postgres. */
  pid: number;
  baseUrl: string;
  /** The embedded Postgres, for sampling its connections. */
  databaseUrl: string;
  logFile: string;
  stop(): Promise<void>;
}

const START_DEADLINE_MS = 180_000;
const STOP_DEADLINE_MS = 60_000;

/**
 * `npm start` itself (`scripts/start.ts`) as a child process, on free ports and a throwaway DATA_DIR, so its CPU is
 * measured apart from the load generator's and the developer's `.data/` is never touched. `environment` is laid over
 * the caller's environment.
 */
export async function startSystemUnderLoad(environment: Record<string, string>): Promise<SystemUnderLoad> {
  const dataDirectory = await mkdtemp(path.join(tmpdir(), 'load-'));
  await chmod(dataDirectory, 0o755); // Postgres runs as its own user and must reach its data directory
  const pgPort = await freePort();
  const apiPort = await freePort();
  const logFile = path.join(dataDirectory, 'control-plane.log');
  const log = createWriteStream(logFile);
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: path.resolve(__dirname, '../..'),
    env: {
      ...process.env,
      DATA_DIR: dataDirectory,
      API_PORT: String(apiPort),
      EMBEDDED_PG_PORT: String(pgPort),
      TEMPORAL_DEV_PORT: String(await freePort()),
      TEMPORAL_UI_PORT: String(await freePort()),
      WORKER_METRICS_PORT: String(await freePort()),
      WORKER_HTTP_PORT: String(await freePort()),
      ...environment,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.pipe(log);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not come up within ${START_DEADLINE_MS / 1000} s (log: ${logFile})`)), START_DEADLINE_MS);
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      log.write(chunk);
      output += chunk.toString();
      if (output.includes('control plane is up')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code} before it was up (log: ${logFile})`));
    });
  });
  return {
    pid: child.pid!,
    baseUrl: `http://127.0.0.1:${apiPort}`,
    databaseUrl: `postgres://postgres:postgres@127.0.0.1:${pgPort}/control_plane`,
    logFile,
    async stop() {
      await stopChild(child);
      log.end();
      await rm(dataDirectory, { recursive: true, force: true });
    },
  };
}

/** SIGTERM lets start.ts stop the API, drain the worker and stop Postgres and the dev server in order. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_DEADLINE_MS);
  await exited;
  clearTimeout(timer);
}

export type ProcessGroup = 'api+worker (node)' | 'temporal dev server' | 'postgres' | 'other';
/** What the CPU sampler reports: each group below the root, the root's main thread (its event loop), and the machine. */
export type CpuGroup = ProcessGroup | 'api+worker main thread' | 'whole machine';

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

/**
 * CPU seconds (user + system) used so far by `root` and every process below it, by what the process is; by the root's
 * main thread alone (an event loop near 100% of a core is saturated whatever the process total says); and by the whole
 * machine (what other work on the box took shows as the difference).
 */
export async function cpuSecondsByGroup(root: number): Promise<Record<CpuGroup, number>> {
  const stats = new Map<number, { parent: number; command: string; ticks: number }>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => undefined);
    if (!stat) continue;
    // "pid (comm) state ppid ... utime stime cutime cstime" (fields 14-17): comm may hold spaces, so split after its
    // closing parenthesis. cutime and cstime hold the reaped children (Postgres backends that exited), counted once.
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    stats.set(Number(entry), { parent: Number(fields[1]), command: stat.slice(stat.indexOf('(') + 1, close), ticks: fields.slice(11, 15).reduce((sum, field) => sum + Number(field), 0) });
  }
  const totals: Record<CpuGroup, number> = { 'api+worker (node)': 0, 'temporal dev server': 0, postgres: 0, other: 0, 'api+worker main thread': 0, 'whole machine': 0 };
  const below = (pid: number): boolean => {
    for (let current = pid, hops = 0; current > 1 && hops < 32; hops++) {
      if (current === root) return true;
      current = stats.get(current)?.parent ?? 0;
    }
    return false;
  };
  for (const [pid, process] of stats) {
    if (!below(pid)) continue;
    totals[groupOf(process.command)] += process.ticks / CLOCK_TICKS_PER_SECOND;
  }
  const mainThread = await readFile(`/proc/${root}/task/${root}/stat`, 'utf8').catch(() => undefined);
  if (mainThread) {
    const fields = mainThread.slice(mainThread.lastIndexOf(')') + 2).split(' ');
    totals['api+worker main thread'] = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  }
  // "cpu  user nice system idle iowait irq softirq steal ...": busy is everything but idle and iowait.
  const machine = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  totals['whole machine'] = machine.reduce((sum, ticks, index) => (index === 3 || index === 4 ? sum : sum + ticks), 0) / CLOCK_TICKS_PER_SECOND;
  return totals;
}

function groupOf(command: string): ProcessGroup {
  if (command.startsWith('node')) return 'api+worker (node)';
  if (command.startsWith('temporal')) return 'temporal dev server';
  if (command.startsWith('postgres')) return 'postgres';
  return 'other';
}
