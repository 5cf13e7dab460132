/**
 * The OpenAPI document is a contract clients can build on: Redocly's recommended rules find nothing in what the app
 * serves (the findings accepted on purpose sit in .redocly.lint-ignore.yaml, each with its reason), every operation
 * has an operationId and the problems it can answer, and the document names the server clients reach.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { loadConfig } from '../../src/config';
import { offlineApp } from '../support/declared-operations';

const ROOT = path.resolve(__dirname, '../..');
/** Where .redocly.lint-ignore.yaml expects the linted document. */
const DOCUMENT = path.join(ROOT, 'test-results', 'openapi', 'openapi.json');
const REDOCLY = path.join(ROOT, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');

interface LintReport {
  totals: { errors: number; warnings: number; ignored: number };
  problems: Array<{ ruleId: string; severity: string; message: string; location: Array<{ pointer?: string }> }>;
}

type Operation = { operationId?: string; responses: Record<string, { $ref?: string; content?: Record<string, unknown> }> };

function lint(file: string): Promise<{ exitCode: number; report: LintReport; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [REDOCLY, 'lint', file, '--config', path.join(ROOT, 'redocly.yaml'), '--format=json'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const exitCode = typeof error?.code === 'number' ? error.code : error ? -1 : 0;
      try {
        resolve({ exitCode, report: JSON.parse(stdout) as LintReport, stderr });
      } catch {
        reject(new Error(`redocly printed no JSON report (exit ${exitCode}): ${stderr.slice(-2000)}`));
      }
    });
  });
}

const served = async (app = offlineApp()) => (await request(app).get('/openapi.json').expect(200)).body as { servers: Array<{ url: string }>; paths: Record<string, Record<string, Operation>> };

const operationsOf = (document: Awaited<ReturnType<typeof served>>) =>
  Object.entries(document.paths).flatMap(([template, item]) => Object.entries(item).map(([method, operation]) => ({ name: `${method.toUpperCase()} ${template}`, operation })));

describe('the OpenAPI document', () => {
  it('passes redocly lint with the recommended rules: no error and no warning', async () => {
    await mkdir(path.dirname(DOCUMENT), { recursive: true });
    await writeFile(DOCUMENT, JSON.stringify(await served(), null, 2));
    const { exitCode, report, stderr } = await lint(DOCUMENT);
    const findings = report.problems.map((problem) => `${problem.severity} ${problem.ruleId} at ${problem.location[0]?.pointer}: ${problem.message}`);
    expect(findings).toEqual([]);
    expect({ exitCode, totals: report.totals }).toEqual({ exitCode: 0, totals: { errors: 0, warnings: 0, ignored: 1 } });
    // A runtime the CLI no longer supports shows as a deprecation banner on stderr, not in the report.
    expect(stderr).not.toMatch(/error|warning|deprecat/i);
  });

  it('fails the lint when the document breaks a rule, so a clean report means something', async () => {
    const broken = await served();
    delete broken.paths['/api/v1/runs']!.post!.operationId;
    (broken as { servers: unknown[] }).servers = [];
    const file = path.join(path.dirname(DOCUMENT), 'broken.json');
    await writeFile(file, JSON.stringify(broken));
    const { exitCode, report } = await lint(file);
    expect(exitCode).not.toBe(0);
    expect(report.problems.map((problem) => problem.ruleId)).toEqual(expect.arrayContaining(['no-empty-servers', 'operation-operationId']));
  });

  it('gives every operation a distinct operationId and a problem+json answer for each 4xx it declares', async () => {
    const operations = operationsOf(await served());
    expect(operations.length).toBeGreaterThan(30);
    const ids = operations.map(({ operation }) => operation.operationId);
    expect(ids.filter((id) => typeof id !== 'string' || !/^[a-z][A-Za-z0-9]+$/.test(id))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { name, operation } of operations) {
      const problems = Object.entries(operation.responses).filter(([status]) => /^4\d\d$/.test(status));
      expect({ name, declares4xx: problems.length > 0 }).toEqual({ name, declares4xx: true });
      for (const [status, response] of problems) {
        const described = response.$ref ?? Object.keys(response.content ?? {}).join(',');
        expect({ name, status, described }).toEqual({ name, status, described: expect.stringMatching(/^#\/components\/responses\/|^application\/problem\+json$/) });
      }
    }
  });

  it('derives the problems a route can answer from what it is, and adds the ones its handler raises', async () => {
    const { paths } = await served();
    const statuses = (template: string, method: string) => Object.keys(paths[template]![method]!.responses).filter((status) => status !== 'default');
    // A tenant route naming a tenant: bad input, no credential, no right, no such tenant, throttled.
    expect(statuses('/api/v1/tenants/{tenantId}/api-keys', 'post')).toEqual(['201', '400', '401', '403', '404', '408', '409', '413', '415', '429', '431', '503']);
    // A public route without a path parameter: no 401, 403 or 404 of its kind; its own 409.
    expect(statuses('/api/v1/signup', 'post')).toEqual(['202', '400', '408', '409', '413', '415', '429', '431', '503']);
    // Login refuses with 401 and 403 itself, though it is public.
    expect(statuses('/api/v1/auth/login', 'post')).toEqual(['200', '400', '401', '403', '408', '413', '415', '429', '431', '503']);
    // Any route refuses a malformed request and answers an outage with 503; outside /api nothing throttles.
    expect(statuses('/healthz', 'get')).toEqual(['200', '400', '408', '413', '415', '431', '503']);
    expect(paths['/api/v1/runs']!.post!.responses['503']).toEqual({ $ref: '#/components/responses/DependencyUnavailable' });
    expect(paths['/api/v1/runs']!.post!.responses['400']).toEqual({ $ref: '#/components/responses/ValidationFailed' });
  });

  it('names PUBLIC_BASE_URL as its server, or else the URL the request came to', async () => {
    const config = loadConfig({ NODE_ENV: 'test', PUBLIC_BASE_URL: 'https://api.example.test/control/' });
    expect(config.PUBLIC_BASE_URL).toBe('https://api.example.test/control');
    expect((await served(offlineApp({ publicBaseUrl: config.PUBLIC_BASE_URL }))).servers).toEqual([{ url: 'https://api.example.test/control' }]);
    const own = (await request(offlineApp()).get('/openapi.json').set('Host', 'api.internal:8080').expect(200)).body as { servers: unknown };
    expect(own.servers).toEqual([{ url: 'http://api.internal:8080' }]);
    expect(() => loadConfig({ NODE_ENV: 'test', PUBLIC_BASE_URL: 'ftp://api.example.test' })).toThrow(/PUBLIC_BASE_URL/);
  });
});
