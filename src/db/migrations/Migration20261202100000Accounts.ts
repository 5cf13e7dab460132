import { Migration } from '@mikro-orm/migrations';

/**
 * Accounts a hosted product can open to the public: the one live token behind each emailed link (hash only), team
 * invitations, the mail ledger operators read for undelivered mail, the signup's email verification on tenant and
 * user, and refresh tokens revoked by a password reset. Tenants that exist already are `not_required`: they were never
 * asked to verify.
 */
export class Migration20261202100000Accounts extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "link_token" ("purpose" text check ("purpose" in ('email_verification', 'password_reset', 'invitation')) not null, "subject_id" uuid not null, "tenant_id" uuid null, "token_hash" varchar(64) null, "issue_key" varchar(200) not null, "expires_at" timestamptz not null, "used_at" timestamptz null, "created_at" timestamptz not null default now(), constraint "link_token_pkey" primary key ("purpose", "subject_id"));`);
    this.addSql(`create index "link_token_tenant_index" on "link_token" ("tenant_id");`);
    this.addSql(`alter table "link_token" add constraint "link_token_token_hash_unique" unique ("token_hash");`);

    this.addSql(`create table "mail_delivery" ("id" uuid not null, "delivery_key" varchar(300) not null, "kind" text check ("kind" in ('email_verification', 'verification_reminder', 'password_reset', 'invitation', 'invitation_reminder')) not null, "recipient" varchar(320) not null, "tenant_id" uuid null, "workflow_id" varchar(200) not null, "status" text check ("status" in ('retrying', 'sent', 'undelivered')) not null, "attempts" int not null default 0, "last_error" text null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), constraint "mail_delivery_pkey" primary key ("id"));`);
    this.addSql(`alter table "mail_delivery" add constraint "mail_delivery_key_unique" unique ("delivery_key");`);
    this.addSql(`create index "mail_delivery_tenant_index" on "mail_delivery" ("tenant_id");`);
    this.addSql(`create index "mail_delivery_status_index" on "mail_delivery" ("status", "created_at");`);

    this.addSql(`create table "invitation" ("id" uuid not null, "tenant_id" uuid not null, "email" varchar(320) not null, "role" text check ("role" in ('owner', 'admin', 'member', 'viewer')) not null, "status" text check ("status" in ('pending', 'accepted', 'revoked', 'expired')) not null, "invited_by" varchar(200) not null, "expires_at" timestamptz not null, "accepted_user_id" uuid null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), constraint "invitation_pkey" primary key ("id"));`);
    this.addSql(`create index "invitation_tenant_status_index" on "invitation" ("tenant_id", "status");`);

    this.addSql(`alter table "invitation" add constraint "invitation_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "refresh_token" drop constraint if exists "refresh_token_revoked_reason_check";`);

    this.addSql(`alter table "tenant" add column "email_verification" text check ("email_verification" in ('not_required', 'pending', 'verified')) not null default 'not_required', add column "email_verified_at" timestamptz null, add column "verification_deadline" timestamptz null;`);

    this.addSql(`alter table "app_user" add column "email_verified_at" timestamptz null;`);

    this.addSql(`alter table "refresh_token" add constraint "refresh_token_revoked_reason_check" check("revoked_reason" in ('rotated', 'logout', 'reuse_detected', 'membership_gone', 'offboarded', 'password_reset'));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "link_token" cascade;`);

    this.addSql(`drop table if exists "mail_delivery" cascade;`);

    this.addSql(`drop table if exists "invitation" cascade;`);

    this.addSql(`alter table "refresh_token" drop constraint if exists "refresh_token_revoked_reason_check";`);

    this.addSql(`alter table "app_user" drop column "email_verified_at";`);

    this.addSql(`alter table "refresh_token" add constraint "refresh_token_revoked_reason_check" check("revoked_reason" in ('rotated', 'logout', 'reuse_detected', 'membership_gone', 'offboarded'));`);

    this.addSql(`alter table "tenant" drop column "email_verification", drop column "email_verified_at", drop column "verification_deadline";`);
  }

}
