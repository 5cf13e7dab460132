import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { postgresEventStore } from '../../src/db/event-store';
import type { Orm } from '../../src/db/orm';
import { EventSink } from '../../src/observability/event-sink';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import { bearer, buildTestApp, OPERATORS, type TestApp } from '../support/auth';
import { testOrm } from '../support/stack';

let orm: Orm;
let subject: TestApp;
let events: EventSink;
const asOps = bearer(OPERATORS.ops.token);

beforeAll(async () => {
  orm = await testOrm();
  events = new EventSink({ store: postgresEventStore(orm), logger: createLogger('silent'), metrics: createMetrics(), flushIntervalMs: 10 });
  subject = await buildTestApp(orm, { events, env: { SIGNUP_RATE_LIMIT_PER_HOUR: '1' } });
});
afterAll(async () => {
  await events.close();
  await subject.close();
  await orm.close(true);
});

async function seed(tenantId: string, types: string[]) {
  await postgresEventStore(orm).append(types.map((type, index) => ({ type, tenantId, runId: `run-${index % 2}`, data: { index }, at: new Date(Date.UTC(2026, 0, 1, 0, index)) })));
}

describe('GET /api/v1/admin/events', () => {
  it('filters by tenant, type prefix, run and time, newest first', async () => {
    const tenantId = randomUUID();
    await seed(tenantId, ['lifecycle.suspended', 'lifecycle.unsuspended', 'run.phase_changed', 'run.phase_changed', 'lifecycle.pending_deletion']);
    const get = (query: Record<string, string>) => request(subject.app).get('/api/v1/admin/events').query({ tenantId, ...query }).set(asOps);

    const all = await get({});
    expect(all.status).toBe(200);
    expect(all.body.events.map((event: { type: string }) => event.type)).toEqual(['lifecycle.pending_deletion', 'run.phase_changed', 'run.phase_changed', 'lifecycle.unsuspended', 'lifecycle.suspended']);
    expect((await get({ type: 'lifecycle.*' })).body.events).toHaveLength(3);
    expect((await get({ type: 'run.phase_changed', runId: 'run-1' })).body.events.map((event: { data: { index: number } }) => event.data.index)).toEqual([3]);
    const window = await get({ from: '2026-01-01T00:01:00Z', to: '2026-01-01T00:03:00Z' });
    expect(window.body.events.map((event: { data: { index: number } }) => event.data.index)).toEqual([2, 1]);
  });

  it('pages with an opaque cursor until the last page says there is no next one', async () => {
    const tenantId = randomUUID();
    await seed(tenantId, Array.from({ length: 5 }, () => 'tenant.touched'));
    const seen: number[] = [];
    let cursor: string | null | undefined;
    let pages = 0;
    do {
      const response = await request(subject.app).get('/api/v1/admin/events').query({ tenantId, limit: '2', ...(cursor ? { cursor } : {}) }).set(asOps);
      expect(response.status).toBe(200);
      seen.push(...response.body.events.map((event: { data: { index: number } }) => event.data.index));
      cursor = response.body.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([4, 3, 2, 1, 0]);
  });

  it('refuses bad filters with 400 problem+json naming the field', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ tenantId: 'not-a-uuid' }, 'tenantId'],
      [{ type: 'DROP TABLE' }, 'type'],
      [{ cursor: 'garbage' }, 'cursor'],
      [{ limit: '0' }, 'limit'],
      [{ from: 'yesterday' }, 'from'],
      [{ colour: 'red' }, 'colour'],
    ];
    for (const [query, path] of cases) {
      const response = await request(subject.app).get('/api/v1/admin/events').query(query).set(asOps);
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(response.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
    }
  });
});

describe('watch lists', () => {
  it('list the protection and billing refusals the gate recorder stored, and leave allows out', async () => {
    const tenantId = randomUUID();
    // A protection throttle and a billing block recorded through the real gate recorder land in their watch lists.
    subject.access.gates.record({ allowed: false, gate: 'protection', outcome: 'throttle', reason: 'burst limit reached', retryAfterSeconds: 60 }, { boundary: 'run_submission', tenantId });
    subject.access.gates.record({ allowed: false, gate: 'billing', outcome: 'block', reason: 'subscription expired' }, { boundary: 'run_submission', tenantId });
    subject.access.gates.record({ allowed: true, gate: 'billing', outcome: 'allow', reason: 'allowed' }, { boundary: 'run_submission', tenantId });
    await events.flush();
    const protection = await request(subject.app).get('/api/v1/admin/watch/protection-decisions').query({ tenantId }).set(asOps);
    expect(protection.body.events.map((event: { data: { reason: string } }) => event.data.reason)).toEqual(['burst limit reached']);
    const billing = await request(subject.app).get('/api/v1/admin/watch/billing-limit-hits').query({ tenantId }).set(asOps);
    expect(billing.body.events.map((event: { type: string }) => event.type)).toEqual(['gate.block']);
  });

  it('store no row for an allowed decision: an authenticated read writes no event', async () => {
    const tenantId = randomUUID();
    subject.access.gates.record({ allowed: true, gate: 'lifecycle', outcome: 'allow', reason: 'allowed' }, { boundary: 'GET /api/v1/runs/:runId', tenantId });
    subject.access.gates.record({ allowed: false, gate: 'lifecycle', outcome: 'block', reason: 'tenant is suspended' }, { boundary: 'POST /api/v1/runs', tenantId });
    await events.flush();
    const stored = await orm.em.fork().execute<Array<{ type: string }>>('select type from domain_event where tenant_id = ? order by id', [tenantId]);
    expect(stored.map((row) => row.type)).toEqual(['gate.block']);
    const exposition = await subject.metrics.registry.getSingleMetricAsString('gate_decisions_total');
    expect(exposition).toContain('gate_decisions_total{gate="lifecycle",outcome="allow",boundary="GET /api/v1/runs/:runId"}');
  });

  it('are for operators only', async () => {
    expect((await request(subject.app).get('/api/v1/admin/watch/lifecycle-transitions')).status).toBe(401);
  });
});
