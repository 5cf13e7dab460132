import { Migration } from '@mikro-orm/migrations';

/**
 * Request budgets counted per bucket (a tenant, a credential, an operator, a client address) in fixed windows that
 * end by the database's clock, so every API process counts against the same window whatever its own clock says.
 */
export class Migration20261206030000RequestBudgets extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "request_budget_counter" ("bucket" text not null, "hits" int not null, "window_ends_at" timestamptz not null, constraint "request_budget_counter_pkey" primary key ("bucket"));`);
    this.addSql(`create index "request_budget_counter_window_ends_at_index" on "request_budget_counter" ("window_ends_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "request_budget_counter" cascade;`);
  }
}
