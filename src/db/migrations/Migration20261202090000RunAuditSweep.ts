import { Migration } from '@mikro-orm/migrations';

/**
 * The reconciler sweeps the unsettled backlog with a keyset cursor instead of rereading its oldest rows: the cursor's
 * row, and the partial index in the cursor's (created_at, id) order.
 */
export class Migration20261202090000RunAuditSweep extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "run_audit_cursor" ("name" varchar(50) not null, "after_created_at" timestamptz null, "after_run_id" uuid null, "updated_at" timestamptz not null default now(), constraint "run_audit_cursor_pkey" primary key ("name"));`,
    );
    this.addSql(`drop index if exists "run_audit_unsettled_index";`);
    this.addSql(`create index "run_audit_unsettled_index" on "run" ("created_at", "id") where "audit_settled_at" is null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "run_audit_cursor" cascade;`);
    this.addSql(`drop index if exists "run_audit_unsettled_index";`);
    this.addSql(`create index "run_audit_unsettled_index" on "run" ("created_at") where "audit_settled_at" is null;`);
  }
}
