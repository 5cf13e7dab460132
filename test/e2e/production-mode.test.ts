/**
 * NODE_ENV=production refuses the dev parts before anything starts: the real start script, spawned with a bare
 * environment as an operator who forgot the variables would run it, exits with one message naming every problem, and
 * leaves no listener, data directory or child process behind. `npm run doctor` prints the same report without starting.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../support/ports';
import { waitFor } from '../support/wait';

const ROOT = path.resolve(__dirname, '../..');

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
  pid: number;
}

function runScript(script: string, env: Record<string, string>): Promise<Exit> {
  return new Promise((resolve, reject) => {
    // Its own process group, so anything it started would still be found by the group after it exits.
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', script)], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, pid: child.pid! }));
  });
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

/** Processes whose command line names the directory: the dev server's, Postgres's and Mailpit's would. */
async function processesNaming(directory: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const commandLine = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (commandLine.includes(directory)) found.push(`${entry}: ${commandLine.replaceAll('\0', ' ')}`);
  }
  return found;
}

const groupIsEmpty = (pgid: number) => {
  try {
    process.kill(-pgid, 0);
    return false;
  } catch {
    return true;
  }
};

/**
 * tsx's esbuild service shares the group and ends with its parent, a moment later; a Postgres, dev server or Mailpit
 * the start had launched would still be there at the deadline.
 */
const groupEmpties = (pgid: number) => waitFor(() => groupIsEmpty(pgid), { timeoutMs: 10_000 });

const problemVariables = (message: string) => [...message.matchAll(/^ {2}- ([\w.]+):/gm)].map((match) => match[1]);

let workDirectory: string;
beforeEach(async () => {
  workDirectory = await mkdtemp(path.join(tmpdir(), 'production-mode-'));
});
afterEach(async () => {
  await rm(workDirectory, { recursive: true, force: true });
});

/** Every port the start command would open, free now, so "nothing listens" is a claim about this process alone. */
async function portsEnvironment() {
  const names = ['API_PORT', 'WORKER_HTTP_PORT', 'WORKER_METRICS_PORT', 'TEMPORAL_DEV_PORT', 'TEMPORAL_UI_PORT', 'EMBEDDED_PG_PORT', 'MAILPIT_SMTP_PORT', 'MAILPIT_UI_PORT'];
  return Object.fromEntries(await Promise.all(names.map(async (name) => [name, String(await freePort())] as const)));
}

describe('NODE_ENV=production start', () => {
  it('refuses a bare environment before it listens, naming every missing part in one message, and leaves nothing behind', async () => {
    const dataDirectory = path.join(workDirectory, 'data');
    const ports = await portsEnvironment();
    const exit = await runScript('start.ts', { NODE_ENV: 'production', DATA_DIR: dataDirectory, ...ports });

    expect(exit.code).toBe(2);
    expect(exit.stderr).toMatch(/^NODE_ENV=production refuses to start:\n/m);
    expect(problemVariables(exit.stderr)).toEqual(['DATABASE_URL', 'TEMPORAL_ADDRESS', 'SMTP_URL', 'PUBLIC_BASE_URL', 'AUTH_TOKEN_SECRET']);
    expect(exit.stdout).not.toContain('control plane is up');
    // Nothing started: no data directory (embedded Postgres, the dev server's SQLite, Mailpit), no port, no process.
    expect(existsSync(dataDirectory)).toBe(false);
    expect(await Promise.all(Object.values(ports).map(async (port) => ({ port, listening: await listening(Number(port)) })))).toEqual(
      Object.values(ports).map((port) => ({ port, listening: false })),
    );
    await groupEmpties(exit.pid);
    expect(await processesNaming(dataDirectory)).toEqual([]);
  });

  it('lists every kind of problem at once: dev parts, an http base URL, weak and short secrets, hosted signup on the default limit', async () => {
    const dataDirectory = path.join(workDirectory, 'data');
    const exit = await runScript('start.ts', {
      NODE_ENV: 'production',
      DATA_DIR: dataDirectory,
      ...(await portsEnvironment()),
      PUBLIC_BASE_URL: 'http://api.acme.io',
      AUTH_TOKEN_SECRET: 'z'.repeat(40),
      OPERATOR_TOKENS: `ada:founder:${'short-token'}`,
      HOSTED_MODE: 'true',
    });

    expect(exit.code).toBe(2);
    expect(problemVariables(exit.stderr)).toEqual([
      'OPERATOR_TOKENS.0.token',
      'DATABASE_URL',
      'TEMPORAL_ADDRESS',
      'SMTP_URL',
      'PUBLIC_BASE_URL',
      'AUTH_TOKEN_SECRET',
      'SIGNUP_RATE_LIMIT_PER_HOUR',
    ]);
    expect(exit.stderr).not.toContain('z'.repeat(40));
    expect(existsSync(dataDirectory)).toBe(false);
    await groupEmpties(exit.pid);
  });
});

describe('npm run doctor', () => {
  it('prints the report production start acts on, in any environment, and exits 1 while production would refuse', async () => {
    const dataDirectory = path.join(workDirectory, 'data');
    const development = await runScript('doctor.ts', { NODE_ENV: 'development', DATA_DIR: dataDirectory });
    expect(development.code).toBe(1);
    expect(development.stderr).toContain('NODE_ENV=development');
    expect(problemVariables(development.stderr)).toEqual(['DATABASE_URL', 'TEMPORAL_ADDRESS', 'SMTP_URL', 'PUBLIC_BASE_URL', 'AUTH_TOKEN_SECRET']);
    expect(existsSync(dataDirectory)).toBe(false);

    const production = await runScript('start.ts', { NODE_ENV: 'production', DATA_DIR: dataDirectory, ...(await portsEnvironment()) });
    const refusalLines = (text: string) => text.split('\n').filter((line) => line.startsWith('  - '));
    expect(refusalLines(development.stderr)).toEqual(refusalLines(production.stderr));
  });

  it('exits 0 for a production-ready environment and 2 for an invalid value', async () => {
    const ready = await runScript('doctor.ts', {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgresql://app:pw@db.internal:5432/control',
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      SMTP_URL: 'smtps://mailer:pw@smtp.internal:465',
      PUBLIC_BASE_URL: 'https://api.acme.io',
      AUTH_TOKEN_SECRET: 'Qm2ZpL8vRt4Wn7YbHc1FsDg6Ae0Uo5IiK3J9xTq',
    });
    expect({ code: ready.code, stdout: ready.stdout }).toEqual({ code: 0, stdout: expect.stringContaining('Production-ready') });

    const invalid = await runScript('doctor.ts', { API_PORT: 'eighty' });
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/Invalid configuration:\n {2}- API_PORT/);
  });
});
