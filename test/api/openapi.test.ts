import request from 'supertest';
import { openApiPath } from '../../src/api/openapi';
import type { Orm } from '../../src/db/orm';
import { buildTestApp, type TestApp } from '../support/auth';
import { routeTable } from '../support/routes';
import { testOrm } from '../support/stack';

let orm: Orm;
let subject: TestApp;
beforeAll(async () => {
  orm = await testOrm();
  subject = await buildTestApp(orm, { env: { HOSTED_MODE: 'true' } });
});
afterAll(async () => {
  await subject.close();
  await orm.close(true);
});

describe('GET /openapi.json', () => {
  it('documents every route the app serves, with its method and auth requirement', async () => {
    const document = (await request(subject.app).get('/openapi.json').expect(200)).body;
    expect(document.openapi).toBe('3.1.0');
    const table = routeTable(subject.app);
    expect(table.length).toBeGreaterThan(10);
    const missing = table
      .filter((entry) => !document.paths[openApiPath(entry.path)]?.[entry.method.toLowerCase()])
      .map((entry) => `${entry.method} ${entry.path}`);
    expect(missing).toEqual([]);
    for (const entry of table.filter((candidate) => candidate.requirement !== 'public')) {
      expect(document.paths[openApiPath(entry.path)][entry.method.toLowerCase()]['x-auth-requirement']).toBe(entry.requirement);
    }
  });

  it('renders request bodies from the same zod schemas that validate them (unknown fields refused)', async () => {
    const document = (await request(subject.app).get('/openapi.json')).body;
    const signup = document.paths['/api/v1/signup'].post.requestBody.content['application/json'].schema;
    expect(signup.required).toEqual(expect.arrayContaining(['email', 'password', 'orgName']));
    expect(signup.additionalProperties).toBe(false);
    const keyRevoke = document.paths['/api/v1/tenants/{tenantId}/api-keys/{keyId}'].delete;
    expect(keyRevoke.parameters.map((parameter: { name: string; in: string }) => `${parameter.in}:${parameter.name}`)).toEqual(
      expect.arrayContaining(['path:tenantId', 'path:keyId']),
    );
  });
});
