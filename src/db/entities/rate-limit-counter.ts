import { EntitySchema } from '@mikro-orm/core';

/** One rate-limit window of one key; rows are written only by rate-limiter-flexible (src/api/rate-limit-store.ts). */
export class RateLimitCounter {
  key!: string;
  points!: number;
  /** Epoch milliseconds the window ends. */
  expire?: string | null;
}

export const RateLimitCounterSchema = new EntitySchema<RateLimitCounter>({
  class: RateLimitCounter,
  tableName: 'rate_limit_counter',
  properties: {
    key: { type: 'string', length: 255, primary: true },
    points: { type: 'integer', default: 0 },
    expire: { type: 'bigint', nullable: true },
  },
});
