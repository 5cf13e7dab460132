import { Migration } from '@mikro-orm/migrations';

/**
 * Rate-limit counters shared by every API process, in the shape rate-limiter-flexible's Postgres store reads and
 * writes (created here so the schema is ours and migrated, not made at run time by the library).
 */
export class Migration20261201180000RateLimitCounters extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "rate_limit_counter" ("key" varchar(255) not null, "points" int not null default 0, "expire" bigint null, constraint "rate_limit_counter_pkey" primary key ("key"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "rate_limit_counter" cascade;`);
  }
}
