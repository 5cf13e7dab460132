import { Limits } from '../domain/limits';
import type { Plan, SubscriptionState } from '../domain/tenant-status';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { BillingState, BillingStateStore } from './billing-state-store';

/**
 * Where an answer came from: `store` (just read), `cache` (read within the TTL), `stale_cache` (the store failed and
 * a value within the staleness bound was used), `fallback` (the store failed and nothing usable was cached).
 */
export type BillingStateOrigin = 'store' | 'cache' | 'stale_cache' | 'fallback';

export interface BillingView {
  origin: BillingStateOrigin;
  plan: Plan | 'unknown';
  subscriptionState: SubscriptionState | 'unknown';
  limits: Limits;
  /** When the answer was read from the store; absent for the fallback. */
  readAt?: Date;
}

export interface BillingStateSourceOptions {
  store: BillingStateStore;
  /** Reuse a read this long before asking the store again. */
  ttlMs: number;
  /** Use a read this old, and no older, while the store is failing. */
  maxStalenessMs: number;
  now?: () => Date;
  logger?: Logger;
  metrics?: Metrics;
  /** Bound on cached tenants, so a scan over every tenant id cannot grow the process without limit. */
  maxEntries?: number;
}

interface CacheEntry {
  state: BillingState;
  readAt: Date;
}

/**
 * Billing state for gates, tolerant of the store being down: a billing outage must not stop every tenant's runs
 * (fail open), but only for a bounded time (stale values expire), after which a tenant gets trial-equivalent limits:
 * enough to keep working, never more than a trial.
 */
export function createBillingStateSource(options: BillingStateSourceOptions) {
  const now = options.now ?? (() => new Date());
  const maxEntries = options.maxEntries ?? 10_000;
  const cache = new Map<string, CacheEntry>();
  const inFlight = new Map<string, Promise<BillingState | undefined>>();

  const view = (entry: CacheEntry, origin: BillingStateOrigin): BillingView => ({
    origin,
    plan: entry.state.plan,
    subscriptionState: entry.state.subscriptionState,
    limits: Limits.derive(entry.state.plan, entry.state.subscriptionState),
    readAt: entry.readAt,
  });
  const count = (origin: BillingStateOrigin) => options.metrics?.billingStateReads.inc({ source: origin });

  function remember(tenantId: string, state: BillingState): CacheEntry {
    const entry = { state, readAt: now() };
    cache.delete(tenantId);
    cache.set(tenantId, entry);
    if (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
    return entry;
  }

  /** One store read per tenant at a time: a burst of requests for a cold tenant does not become a burst of queries. */
  function readOnce(tenantId: string): Promise<BillingState | undefined> {
    let pending = inFlight.get(tenantId);
    if (!pending) {
      pending = options.store.read(tenantId).finally(() => inFlight.delete(tenantId));
      inFlight.set(tenantId, pending);
    }
    return pending;
  }

  return {
    /** The tenant's billing view, or undefined when the store says it has no billing account. */
    async viewOf(tenantId: string): Promise<BillingView | undefined> {
      const cached = cache.get(tenantId);
      const age = (entry: CacheEntry) => now().getTime() - entry.readAt.getTime();
      if (cached && age(cached) < options.ttlMs) {
        count('cache');
        return view(cached, 'cache');
      }
      let state: BillingState | undefined;
      try {
        state = await readOnce(tenantId);
      } catch (error) {
        if (cached && age(cached) <= options.maxStalenessMs) {
          options.logger?.warn({ err: error, tenantId, ageSeconds: Math.round(age(cached) / 1000) }, 'billing store failed; using cached billing state');
          count('stale_cache');
          return view(cached, 'stale_cache');
        }
        options.logger?.warn({ err: error, tenantId }, 'billing store failed and no usable cached state; using trial-equivalent limits');
        count('fallback');
        return { origin: 'fallback', plan: 'unknown', subscriptionState: 'unknown', limits: Limits.trialEquivalent() };
      }
      if (!state) {
        cache.delete(tenantId);
        return undefined;
      }
      count('store');
      return view(remember(tenantId, state), 'store');
    },

    /** After a known change (an operator's PUT): the next read goes to the store. */
    invalidate(tenantId: string): void {
      cache.delete(tenantId);
    },
  };
}

export type BillingStateSource = ReturnType<typeof createBillingStateSource>;
