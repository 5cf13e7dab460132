import { createHash } from 'node:crypto';
import type { ClientRateLimitInfo, IncrementResponse, Options, Store } from 'express-rate-limit';
import { RateLimiterPostgres, type RateLimiterRes } from 'rate-limiter-flexible';
import type { Orm } from '../db/orm';
import { isStorableText } from '../domain/storable-text';

/** A store for each named limit; the names keep the limits' counters apart. */
export type RateLimitStores = (limitName: string) => Store;

const TABLE = 'rate_limit_counter';
/** The table's key is varchar(255): a prefix and key that would not fit (an email can be 320 characters) are hashed. */
const KEY_ROOM = 250;
const hashed = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/**
 * express-rate-limit's limits, counted in Postgres by rate-limiter-flexible's Postgres store: every API process of a
 * deployment shares them, and a restart keeps them. `deployment` scopes the counters (the task queue: the processes
 * of one deployment share it), so two deployments on one database, or two test apps, never count each other's hits.
 */
export function postgresRateLimitStores(orm: Orm, deployment: string): RateLimitStores {
  return (limitName) => {
    const prefix = `${deployment}:${limitName}`;
    return new PostgresRateLimitStore(orm, prefix.length <= KEY_ROOM / 2 ? prefix : hashed(prefix));
  };
}

class PostgresRateLimitStore implements Store {
  private windowMs = 60_000;
  private counters: RateLimiterPostgres | undefined;

  constructor(
    private readonly orm: Orm,
    readonly prefix: string,
  ) {}

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  /** Made at the first request, not when the app is built: building the app touches no database. */
  private get limiter(): RateLimiterPostgres {
    this.counters ??= new RateLimiterPostgres({
      storeClient: this.orm.em.getConnection().getKnex(),
      storeType: 'knex',
      tableName: TABLE,
      tableCreated: true,
      keyPrefix: this.prefix,
      // express-rate-limit compares the hits with its own limit; this store only counts them in the window.
      points: 2_000_000_000,
      duration: Math.max(1, Math.ceil(this.windowMs / 1000)),
      clearExpiredByTimeout: true,
    });
    return this.counters;
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const counted = await this.limiter.get(this.storedKey(key));
    return counted ? infoOf(counted) : undefined;
  }

  async increment(key: string): Promise<IncrementResponse> {
    return infoOf(await this.limiter.penalty(this.storedKey(key), 1));
  }

  async decrement(key: string): Promise<void> {
    await this.limiter.reward(this.storedKey(key), 1);
  }

  async resetKey(key: string): Promise<void> {
    await this.limiter.delete(this.storedKey(key));
  }

  /**
   * rate-limiter-flexible stores `${prefix}:${key}`. Keys come from requests before they are validated (the attempted
   * email of a login): one that is too long or holds what Postgres cannot store is kept as its hash.
   */
  private storedKey(key: string): string {
    return this.prefix.length + 1 + key.length <= KEY_ROOM && isStorableText(key) ? key : hashed(key);
  }
}

const infoOf = (counted: RateLimiterRes): IncrementResponse => ({ totalHits: counted.consumedPoints, resetTime: new Date(Date.now() + counted.msBeforeNext) });
