import { Migration } from '@mikro-orm/migrations';

/**
 * One row per running worker, stamped every few seconds: /readyz of an API-only process reads it, because Temporal
 * keeps listing a dead worker's poller for minutes. The index serves readiness's one query (queue, freshest first).
 */
export class Migration20261201120000WorkerHeartbeat extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "worker_heartbeat" ("identity" text not null, "task_queue" text not null, "seen_at" timestamptz not null, constraint "worker_heartbeat_pkey" primary key ("identity"));`);
    this.addSql(`create index "worker_heartbeat_task_queue_seen_at_index" on "worker_heartbeat" ("task_queue", "seen_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "worker_heartbeat" cascade;`);
  }
}
