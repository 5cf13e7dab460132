import { Migration } from '@mikro-orm/migrations';

/**
 * Issue 21, items 5 and 7. `mail_ration_entry`: one row per invitation mail a tenant was allowed to send, counted per
 * tenant, per (tenant, recipient) and per recipient over rolling windows; revoking an invitation leaves its row, so
 * invite-and-revoke cycles spend the ration. `credential_throttle`: failed credential checks (passwords, link tokens)
 * per hashed key (client address, account at a client, account, device cookie) and the lock each one earned.
 */
export class Migration20261206050000MailRationAndCredentialThrottle extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "mail_ration_entry" ("id" uuid not null, "tenant_id" uuid not null, "recipient" varchar(320) not null, "kind" text check ("kind" in ('invitation')) not null, "taken_at" timestamptz not null, constraint "mail_ration_entry_pkey" primary key ("id"));`);
    this.addSql(`create index "mail_ration_entry_tenant_index" on "mail_ration_entry" ("tenant_id", "taken_at");`);
    this.addSql(`create index "mail_ration_entry_recipient_index" on "mail_ration_entry" ("recipient", "taken_at");`);
    this.addSql(`create index "mail_ration_entry_taken_at_index" on "mail_ration_entry" ("taken_at");`);

    this.addSql(`create table "credential_throttle" ("key" varchar(64) not null, "failures" int not null, "last_failure_at" timestamptz not null, "locked_until" timestamptz null, constraint "credential_throttle_pkey" primary key ("key"));`);
    this.addSql(`create index "credential_throttle_last_failure_index" on "credential_throttle" ("last_failure_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "mail_ration_entry" cascade;`);
    this.addSql(`drop table if exists "credential_throttle" cascade;`);
  }
}
