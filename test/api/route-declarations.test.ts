import { Router } from 'express';
import request from 'supertest';
import { publicAccess, requireOperator } from '../../src/api/auth';
import type { Orm } from '../../src/db/orm';
import { buildTestApp, type TestApp } from '../support/auth';
import { routeTable } from '../support/routes';
import { testOrm } from '../support/stack';

let orm: Orm;
let subject: TestApp;
beforeAll(async () => {
  orm = await testOrm();
  subject = await buildTestApp(orm);
});
afterAll(async () => {
  await subject.close();
  await orm.close(true);
});

describe('route auth declarations', () => {
  it('every route of the app declares who may call it, as its first handler', () => {
    const table = routeTable(subject.app);
    expect(table.length).toBeGreaterThan(5);
    const undeclared = table.filter((entry) => entry.requirement === undefined).map((entry) => `${entry.method} ${entry.path}`);
    expect(undeclared).toEqual([]);
    const late = table.filter((entry) => entry.lateDeclarations > 0).map((entry) => `${entry.method} ${entry.path}`);
    expect(late).toEqual([]);
  });

  it('declares the documented requirement of each known route', () => {
    const requirements = Object.fromEntries(routeTable(subject.app).map((entry) => [`${entry.method} ${entry.path}`, entry.requirement]));
    expect(requirements).toMatchObject({
      'GET /healthz': 'public',
      'GET /metrics': 'public',
      'POST /api/v1/signup': 'public',
      'POST /api/v1/auth/login': 'public',
      'POST /api/v1/auth/refresh': 'public',
      'POST /api/v1/tenants/:tenantId/api-keys': 'tenant:api_keys:create',
      'GET /api/v1/tenants/:tenantId/api-keys': 'tenant:api_keys:read',
      'DELETE /api/v1/tenants/:tenantId/api-keys/:keyId': 'tenant:api_keys:revoke',
      'GET /api/v1/tenants/:tenantId/limits': 'tenant:tenant:read',
      'GET /api/v1/admin/tenants/:tenantId/billing-state': 'operator:ops',
      'PUT /api/v1/admin/tenants/:tenantId/billing-state': 'operator:founder',
      'GET /api/v1/tenants/:tenantId/policies': 'tenant:tenant:read',
      'GET /api/v1/tenants/:tenantId/policies/:rule': 'tenant:tenant:read',
      'PUT /api/v1/tenants/:tenantId/policies/max_steps': 'tenant:policies:manage',
      'DELETE /api/v1/tenants/:tenantId/policies/:rule': 'tenant:policies:manage',
      'GET /api/v1/admin/tenants/:tenantId/policies': 'operator:ops',
      'PUT /api/v1/admin/tenants/:tenantId/policies/forbidden_step_kinds': 'operator:founder',
      'DELETE /api/v1/admin/tenants/:tenantId/policies/:rule': 'operator:founder',
    });
  });

  it('finds a route added without a declaration, mounted like any other router', async () => {
    const { app } = await buildTestApp(orm);
    const sneaky = Router();
    sneaky.get('/api/v1/undeclared', (_request, response) => {
      response.json({});
    });
    sneaky.get('/api/v1/declared', publicAccess, (_request, response) => {
      response.json({});
    });
    app.use(sneaky);
    // The lead may guard a whole admin router at once: router.use(requireOperator('ops')) covers the routes after it.
    const admin = Router();
    admin.get('/api/v1/admin/before-guard', (_request, response) => {
      response.json({});
    });
    admin.use(requireOperator('ops'));
    admin.get('/api/v1/admin/after-guard', (_request, response) => {
      response.json({});
    });
    app.use(admin);
    const table = routeTable(app);
    expect(table.find((entry) => entry.path === '/api/v1/admin/before-guard')).toMatchObject({ requirement: undefined });
    expect(table.find((entry) => entry.path === '/api/v1/admin/after-guard')).toMatchObject({ requirement: 'operator:ops', declaredBy: 'router' });
    expect(table.find((entry) => entry.path === '/api/v1/undeclared')).toMatchObject({ requirement: undefined, declaredBy: 'none' });
    expect(table.find((entry) => entry.path === '/api/v1/declared')).toMatchObject({ requirement: 'public', declaredBy: 'route' });
  });

  it('answers an unknown route with a problem+json 404, not an undeclared handler', async () => {
    const response = await request(subject.app).get('/api/v1/nothing-here');
    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
  });
});
