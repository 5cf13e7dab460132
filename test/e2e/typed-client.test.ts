/**
 * A client built only from the OpenAPI document works: openapi-typescript turns the /openapi.json of the running
 * control plane (startControlPlane, API and worker in one process, hosted mode) into types, tsc compiles a small
 * program written against them and openapi-fetch (test/e2e/typed-client/), and that program signs up, logs in and
 * submits a run against the same running API. Generated files go to the git-ignored test-results/typed-client/.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startControlPlane, type RunningControlPlane } from '../../src/control-plane';
import type { Orm } from '../../src/db/orm';
import { createLogger } from '../../src/observability/logger';
import { TEST_AUTH_SECRET } from '../support/auth';
import { freePort } from '../support/ports';
import { testConfig, testDatabaseUrl, testOrm, uniqueSlug, uniqueTaskQueue } from '../support/stack';

const ROOT = path.resolve(__dirname, '../..');
const GENERATED = path.join(ROOT, 'test-results', 'typed-client');
const PROGRAM_PROJECT = path.join(__dirname, 'typed-client', 'tsconfig.json');
const OPENAPI_TYPESCRIPT = path.join(ROOT, 'node_modules', 'openapi-typescript', 'bin', 'cli.js');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

interface Finished {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs a Node script to its end; the caller judges the exit code, so a failure shows its output. */
function node(args: string[]): Promise<Finished> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 90_000 }, (error, stdout, stderr) => {
      resolve({ exitCode: typeof error?.code === 'number' ? error.code : error ? -1 : 0, stdout, stderr });
    });
  });
}

const succeeded = (step: string, finished: Finished) => expect({ step, exitCode: finished.exitCode, output: finished.exitCode === 0 ? '' : `${finished.stdout}\n${finished.stderr}` }).toEqual({ step, exitCode: 0, output: '' });

let plane: RunningControlPlane;
let orm: Orm;
let served: string;
let generation: Finished;

beforeAll(async () => {
  orm = await testOrm();
  const config = testConfig({
    PROCESS_ROLES: 'api,worker',
    HOSTED_MODE: 'true',
    API_PORT: String(await freePort()),
    WORKER_METRICS_PORT: String(await freePort()),
    TEMPORAL_TASK_QUEUE: uniqueTaskQueue('typed-client'),
    AUTH_TOKEN_SECRET: TEST_AUTH_SECRET,
  });
  plane = await startControlPlane(config, testDatabaseUrl(), createLogger('silent'));
  await rm(GENERATED, { recursive: true, force: true });
  await mkdir(GENERATED, { recursive: true });
  served = await (await fetch(`${plane.url}/openapi.json`)).text();
  await writeFile(path.join(GENERATED, 'openapi.json'), served);
  generation = await node([OPENAPI_TYPESCRIPT, path.join(GENERATED, 'openapi.json'), '--output', path.join(GENERATED, 'api.d.ts')]);
});

afterAll(async () => {
  await plane?.stop();
  await orm?.close(true);
});

describe('a typed client generated from /openapi.json', () => {
  it('compiles against the generated types and signs up, logs in and submits a run through the running API', async () => {
    expect(JSON.parse(served).servers).toEqual([{ url: plane.url }]);
    succeeded('openapi-typescript', generation);
    const types = await readFile(path.join(GENERATED, 'api.d.ts'), 'utf8');
    expect(types).toContain('"/api/v1/runs"');
    expect(types).toContain('postRuns');

    succeeded('tsc', await node([TSC, '--project', PROGRAM_PROJECT]));

    const slug = uniqueSlug('typed');
    const program = await node([path.join(GENERATED, 'dist', 'signup-login-run.js'), plane.url!, `${slug}@example.com`, slug]);
    succeeded('the program', program);
    const result = JSON.parse(program.stdout.trim()) as {
      tenantId: string;
      sessionTenantId: string;
      runId: string;
      runStatus: number;
      location: string;
      refused: { status: number; title: string };
    };
    expect(result).toMatchObject({ sessionTenantId: result.tenantId, runStatus: 202, location: `/api/v1/runs/${result.runId}`, refused: { status: 401, title: 'Unauthorized' } });

    // The run the program submitted is the new tenant's, in Postgres.
    const rows = await orm.em.fork().execute<Array<{ tenant_id: string }>>('select tenant_id from run where id = ?', [result.runId]);
    expect(rows).toEqual([{ tenant_id: result.tenantId }]);
  });

  it('refuses to compile a program that breaks the contract', async () => {
    // The same program with its expected type error made real: tsc must reject it, or the types prove nothing.
    const source = await readFile(path.join(__dirname, 'typed-client', 'signup-login-run.ts'), 'utf8');
    const broken = source.replace('// @ts-expect-error steps is required\n', '');
    expect(broken).not.toBe(source);
    const brokenDirectory = path.join(GENERATED, 'broken');
    await mkdir(brokenDirectory, { recursive: true });
    await writeFile(path.join(brokenDirectory, 'signup-login-run.ts'), broken);
    const project = JSON.parse((await readFile(PROGRAM_PROJECT, 'utf8')).replace(/^\s*\/\/.*$/gm, '')) as { compilerOptions: Record<string, unknown> };
    await writeFile(
      path.join(brokenDirectory, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { ...project.compilerOptions, rootDirs: ['.', '..'], noEmit: true, outDir: undefined }, files: ['signup-login-run.ts'] }),
    );
    succeeded('openapi-typescript', generation);
    const compiled = await node([TSC, '--project', path.join(brokenDirectory, 'tsconfig.json')]);
    expect(compiled.exitCode).not.toBe(0);
    expect(compiled.stdout).toMatch(/signup-login-run\.ts.*Property 'steps' is missing/);
  });
});
