import { Migration } from '@mikro-orm/migrations';

/** The operators' event stream, written in batches by the non-blocking event sink. */
export class Migration20261123050000DomainEvents extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "domain_event" ("id" bigserial primary key, "type" varchar(100) not null, "tenant_id" uuid null, "run_id" varchar(100) null, "workflow_id" varchar(200) null, "actor" varchar(200) null, "data" jsonb null, "at" timestamptz not null);`);
    this.addSql(`create index "domain_event_tenant_id_index" on "domain_event" ("tenant_id", "id");`);
    this.addSql(`create index "domain_event_run_id_index" on "domain_event" ("run_id", "id");`);
    this.addSql(`create index "domain_event_type_id_index" on "domain_event" ("type", "id");`);
    this.addSql(`create index "domain_event_at_index" on "domain_event" ("at");`);
  }
}
