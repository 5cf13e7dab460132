import { createBillingStateSource } from '../../src/billing/billing-state-source';
import { createPostgresBillingStateStore, type BillingStateStore } from '../../src/billing/billing-state-store';
import type { Orm } from '../../src/db/orm';
import { Limits } from '../../src/domain/limits';
import { createMetrics } from '../../src/observability/metrics';
import request from 'supertest';
import { bearer, buildTestApp, login, provisionTeam } from '../support/auth';
import { testOrm } from '../support/stack';

let orm: Orm;
beforeAll(async () => {
  orm = await testOrm();
});
afterAll(() => orm.close(true));

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * The real Postgres store behind a switch: while `down`, the read fails before it reaches the database, as a refused
 * connection would. Counts the reads that did reach Postgres.
 */
function faultableStore(orm: Orm) {
  const real = createPostgresBillingStateStore(orm);
  const control = { down: false, reads: 0 };
  const store: BillingStateStore = {
    async read(tenantId) {
      if (control.down) throw new Error('connect ECONNREFUSED (injected)');
      control.reads += 1;
      return real.read(tenantId);
    },
  };
  return { store, control };
}

function fakeClock(start = new Date('2030-01-01T00:00:00Z')) {
  let now = start.getTime();
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) };
}

async function setup() {
  const team = await provisionTeam(orm);
  const { store, control } = faultableStore(orm);
  const clock = fakeClock();
  const metrics = createMetrics();
  const source = createBillingStateSource({ store, ttlMs: MINUTE, maxStalenessMs: HOUR, now: clock.now, metrics });
  const setState = (state: string, plan = 'starter') =>
    orm.em.fork().execute('update billing_account set subscription_state = ?, plan = ? where tenant_id = ?', [state, plan, team.tenantId]);
  return { team, source, control, clock, metrics, setState };
}

describe('billing state source', () => {
  it('reads Postgres, then serves from cache within the TTL without asking again', async () => {
    const { team, source, control, clock } = await setup();
    expect(await source.viewOf(team.tenantId)).toMatchObject({ origin: 'store', plan: 'trial', subscriptionState: 'trial', limits: Limits.derive('trial', 'trial') });
    clock.advance(MINUTE - 1);
    expect((await source.viewOf(team.tenantId))?.origin).toBe('cache');
    expect(control.reads).toBe(1);
    clock.advance(1);
    expect((await source.viewOf(team.tenantId))?.origin).toBe('store');
    expect(control.reads).toBe(2);
  });

  it('fails open within the staleness bound: the store is down and the last known state is used', async () => {
    const { team, source, control, clock, setState } = await setup();
    await setState('active', 'pro');
    await source.viewOf(team.tenantId);
    control.down = true;
    clock.advance(HOUR);
    expect(await source.viewOf(team.tenantId)).toMatchObject({ origin: 'stale_cache', plan: 'pro', subscriptionState: 'active', limits: Limits.derive('pro', 'active') });
  });

  it('falls back to trial-equivalent limits once the cached state is older than the bound', async () => {
    const { team, source, control, clock, setState, metrics } = await setup();
    await setState('active', 'enterprise');
    await source.viewOf(team.tenantId);
    control.down = true;
    clock.advance(HOUR + 1);
    expect(await source.viewOf(team.tenantId)).toEqual({ origin: 'fallback', plan: 'unknown', subscriptionState: 'unknown', limits: Limits.trialEquivalent() });
    expect((await metrics.registry.getSingleMetricAsString('billing_state_reads_total'))).toContain('source="fallback"} 1');
  });

  it('falls back to trial-equivalent limits when the store is down and nothing was ever cached', async () => {
    const { team, source, control } = await setup();
    control.down = true;
    expect(await source.viewOf(team.tenantId)).toMatchObject({ origin: 'fallback', limits: Limits.trialEquivalent() });
  });

  it('goes back to the store as soon as it recovers, and sees changes made meanwhile', async () => {
    const { team, source, control, clock, setState } = await setup();
    await source.viewOf(team.tenantId);
    control.down = true;
    clock.advance(2 * HOUR);
    expect((await source.viewOf(team.tenantId))?.origin).toBe('fallback');
    await setState('expired', 'trial');
    control.down = false;
    expect(await source.viewOf(team.tenantId)).toMatchObject({ origin: 'store', subscriptionState: 'expired', limits: { runsPerDay: 0 } });
  });

  it('grants nothing beyond what was known: a cached expired state stays expired while the store is down', async () => {
    const { team, source, control, clock, setState } = await setup();
    await setState('expired', 'trial');
    await source.viewOf(team.tenantId);
    control.down = true;
    clock.advance(30 * MINUTE);
    expect(await source.viewOf(team.tenantId)).toMatchObject({ origin: 'stale_cache', limits: { runsPerDay: 0 } });
  });

  it('reads again after invalidate, and answers undefined for a tenant without a billing account', async () => {
    const { team, source, control, setState } = await setup();
    await source.viewOf(team.tenantId);
    await setState('grace', 'starter');
    source.invalidate(team.tenantId);
    expect(await source.viewOf(team.tenantId)).toMatchObject({ origin: 'store', subscriptionState: 'grace' });
    expect(control.reads).toBe(2);
    expect(await source.viewOf('00000000-0000-4000-8000-00000000dead')).toBeUndefined();
  });

  it('asks the store once for a burst of lookups of a cold tenant', async () => {
    const { team, source, control } = await setup();
    await Promise.all(Array.from({ length: 10 }, () => source.viewOf(team.tenantId)));
    expect(control.reads).toBe(1);
  });
});

describe('billing state source behind the API', () => {
  it('keeps the limits route answering, with trial-equivalent limits, while the billing store is down', async () => {
    const team = await provisionTeam(orm);
    const { store, control } = faultableStore(orm);
    const subject = await buildTestApp(orm, { billingStore: store });
    try {
      const owner = await login(subject.app, team.members.owner.email);
      control.down = true;
      const response = await request(subject.app).get(`/api/v1/tenants/${team.tenantId}/limits`).set(bearer(owner.accessToken));
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ origin: 'fallback', plan: 'unknown', limits: Limits.trialEquivalent() });
    } finally {
      await subject.close();
    }
  });
});
