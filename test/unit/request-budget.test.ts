import { rateLimitHeaders } from '../../src/api/rate-limit-headers';
import { RefusalMemory } from '../../src/api/refusal-memory';
import { Limits } from '../../src/domain/limits';
import { tenantRequestBudgets } from '../../src/domain/request-budget';
import { PLANS, SUBSCRIPTION_STATES } from '../../src/domain/tenant-status';

describe('request budgets from the plan', () => {
  it('gives a tenant its plan’s requests per minute and one credential half of them', () => {
    expect(tenantRequestBudgets(Limits.derive('trial', 'trial'))).toEqual({ credential: { policy: 'credential', quota: 150 }, tenant: { policy: 'tenant', quota: 300 } });
    expect(tenantRequestBudgets(Limits.derive('pro', 'active'))).toEqual({ credential: { policy: 'credential', quota: 3_000 }, tenant: { policy: 'tenant', quota: 6_000 } });
  });

  it('raises the budget with the plan, and never gives a credential more than its tenant', () => {
    const active = PLANS.map((plan) => tenantRequestBudgets(Limits.derive(plan, 'active')));
    for (let index = 1; index < active.length; index += 1) expect(active[index]!.tenant.quota).toBeGreaterThan(active[index - 1]!.tenant.quota);
    for (const plan of PLANS) {
      for (const state of SUBSCRIPTION_STATES) {
        const budgets = tenantRequestBudgets(Limits.derive(plan, state));
        expect(budgets.credential.quota).toBeGreaterThanOrEqual(1);
        expect(budgets.credential.quota).toBeLessThanOrEqual(budgets.tenant.quota);
      }
    }
  });

  it('keeps an enterprise tenant whose bill lapsed at the trial budget, and one in grace at its plan’s', () => {
    expect(tenantRequestBudgets(Limits.derive('enterprise', 'suspended')).tenant.quota).toBe(300);
    expect(tenantRequestBudgets(Limits.derive('enterprise', 'grace')).tenant.quota).toBe(30_000);
  });

  it('scales every plan by the deployment’s percentage, never below one request', () => {
    expect(tenantRequestBudgets(Limits.derive('starter', 'active'), 50)).toEqual({ credential: { policy: 'credential', quota: 300 }, tenant: { policy: 'tenant', quota: 600 } });
    expect(tenantRequestBudgets({ requestsPerMinute: 1 }, 1)).toEqual({ credential: { policy: 'credential', quota: 1 }, tenant: { policy: 'tenant', quota: 1 } });
  });
});

describe('RateLimit header fields', () => {
  it('writes one structured-field list item per policy, remaining never below zero', () => {
    expect(
      rateLimitHeaders([
        { policy: 'credential', quota: 150, windowSeconds: 60, remaining: 3, resetSeconds: 41 },
        { policy: 'tenant', quota: 300, windowSeconds: 60, remaining: -2, resetSeconds: 12 },
      ]),
    ).toEqual({ 'RateLimit-Policy': '"credential";q=150;w=60, "tenant";q=300;w=60', RateLimit: '"credential";r=3;t=41, "tenant";r=0;t=12' });
  });
});

describe('refusal memory', () => {
  it('refuses a remembered bucket until its window ends, then forgets it', () => {
    let now = 1_000;
    const memory = new RefusalMemory(() => now);
    memory.remember('tenant:a', 5_000);
    expect(memory.refusing(['credential:x', 'tenant:a'])).toEqual({ bucket: 'tenant:a', untilMs: 6_000 });
    expect(memory.refusing(['tenant:b'])).toBeUndefined();
    now = 6_000;
    expect(memory.refusing(['tenant:a'])).toBeUndefined();
  });

  it('holds at most its capacity, dropping the oldest first', () => {
    const memory = new RefusalMemory(() => 0, 2);
    for (const bucket of ['a', 'b', 'c']) memory.remember(bucket, 1_000);
    expect(memory.refusing(['a'])).toBeUndefined();
    expect(memory.refusing(['b', 'c'])?.bucket).toBe('b');
  });
});
